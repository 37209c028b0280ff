"""Reads of the catalogue, each a fixed number of queries whatever the page size."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, FilteredRelation, OuterRef, Prefetch, Q, Subquery, Sum

from core.access import visible
from core.errors import DomainError, ErrorCode, field_error
from core.models import Company, Country, TransitionEvent
from core.money import Money
from warehouses.models import StockLevel

from . import search
from .models import (
    CONTENT_LANGUAGES,
    Category,
    Listing,
    Product,
    ProductImage,
    ProductTranslation,
    Storefront,
    content_language,
)
from .states import COMPANY_VERIFICATION_MACHINE

ORDERINGS = {
    # name: (cursor ordering, label)
    "newest": ("-id",),
    "price": ("price_minor", "id"),
    "-price": ("-price_minor", "-id"),
    # The price sorts on a storefront: ties broken on the listing's copy of the product id, so
    # that the whole order comes from index listing_sf_price_idx or listing_sf_category_idx.
    "listed price": ("price_minor", "listed"),
    "-listed price": ("-price_minor", "-listed"),
    "relevance": ("-relevance", "-id"),
    # "newest" on a storefront: the same order, read from the storefront's listing index.
    "listed": ("-listed",),
    # relevance read from the search table (see search.ranked)
    "ranked": ("-relevance", "-product_id"),
}
PUBLIC_ORDERINGS = ("newest", "price", "-price", "relevance")


def storefront_list(*, user):
    """Storefronts with their markets: three queries whatever their number."""
    return visible(user, Storefront.objects.select_related("currency", "seller_country")).prefetch_related(
        Prefetch("markets", queryset=Country.objects.order_by("iso2")),
        "warehouses",
    )


def storefront_get(*, user, code: str) -> Storefront:
    from core.access import get_visible

    return get_visible(user, Storefront.objects.select_related("currency", "seller_country"), code=code)


# --- categories -------------------------------------------------------------------------------


@dataclass
class CategoryTree:
    nodes: list[Category]

    def by_slug(self, slug: str) -> Category | None:
        return next((c for c in self.nodes if c.slug == slug), None)

    def roots(self) -> list[Category]:
        return [c for c in self.nodes if c.parent_id is None]

    def children(self, category: Category) -> list[Category]:
        return [c for c in self.nodes if c.parent_id == category.pk]

    def subtree_ids(self, category: Category) -> list[int]:
        prefix = category.path + "/"
        return [c.pk for c in self.nodes if c.pk == category.pk or c.path.startswith(prefix)]

    def ancestors(self, category: Category) -> list[Category]:
        parts = category.path.split("/")
        paths = {"/".join(parts[: i + 1]) for i in range(len(parts))}
        return sorted((c for c in self.nodes if c.path in paths), key=lambda c: c.depth)


def category_tree() -> CategoryTree:
    """Every category (one query: the tree is small, a few hundred nodes at most)."""
    return CategoryTree(list(Category.objects.order_by("position", "path")))


def storefront_category_ids(storefront: Storefront) -> set[int]:
    """The categories with something on sale on ``storefront`` (and their ancestors are shown by
    the caller). Cached for a few minutes: it scans the storefront's listings."""
    from django.core.cache import cache

    key = f"marketplace:storefront-categories:{storefront.pk}"
    ids = cache.get(key)
    if ids is None:
        ids = sorted(set(Product.objects.filter(listings__storefront=storefront, listings__is_visible=True)
                         .values_list("category_id", flat=True).distinct()))
        cache.set(key, ids, 300)
    return set(ids)


# --- products ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductQuery:
    storefront: Storefront | None = None
    q: str = ""
    category: Category | None = None
    category_ids: tuple[int, ...] = ()
    in_stock: bool | None = None
    price_min: Money | None = None
    price_max: Money | None = None
    origin: str = ""
    ordering: str = ""
    company_id: int | None = None


def parse_product_query(params, *, tree: CategoryTree | None = None, storefronts: dict | None = None) -> ProductQuery:
    """Query parameters (API or page) -> a checked :class:`ProductQuery`; bad values are a 400
    naming the parameter."""
    storefront = None
    code = (params.get("storefront") or "").strip()
    if code:
        storefront = (storefronts or {}).get(code) or Storefront.objects.select_related("currency").filter(
            code=code, is_active=True).first()
        if storefront is None:
            raise field_error("storefront", "Unknown storefront.")
    category = None
    ids: tuple[int, ...] = ()
    slug = (params.get("category") or "").strip()
    if slug:
        tree = tree or category_tree()
        category = tree.by_slug(slug)
        if category is None:
            raise field_error("category", "Unknown category.")
        ids = tuple(tree.subtree_ids(category))
    in_stock = params.get("in_stock")
    if in_stock in (None, ""):
        in_stock_value = None
    elif str(in_stock).lower() in ("1", "true", "yes", "on"):
        in_stock_value = True
    elif str(in_stock).lower() in ("0", "false", "no", "off"):
        in_stock_value = False
    else:
        raise field_error("in_stock", "Use true or false.")
    prices = {}
    for name in ("price_min", "price_max"):
        raw = (params.get(name) or "").strip()
        if raw:
            if storefront is None:
                raise field_error(name, "A price filter needs a storefront (prices are per storefront).")
            prices[name] = Money.of(raw, storefront.currency_id, field=name)
    if "price_min" in prices and "price_max" in prices and prices["price_min"] > prices["price_max"]:
        raise field_error("price_max", "The highest price is below the lowest.")
    origin = (params.get("origin") or "").strip().upper()
    if origin and (len(origin) != 2 or not origin.isalpha()):
        raise field_error("origin", "Use a two-letter country code.", ErrorCode.UNKNOWN_COUNTRY)
    q = (params.get("q") or "").strip()[:200]
    ordering = (params.get("ordering") or "").strip()
    if ordering and ordering not in PUBLIC_ORDERINGS:
        raise field_error("ordering", f"Use one of: {', '.join(PUBLIC_ORDERINGS)}.")
    if ordering in ("price", "-price") and storefront is None:
        raise field_error("ordering", "Sorting by price needs a storefront.")
    if ordering == "relevance" and not q:
        ordering = ""
    return ProductQuery(storefront=storefront, q=q, category=category, category_ids=ids, in_stock=in_stock_value,
                        price_min=prices.get("price_min"), price_max=prices.get("price_max"), origin=origin,
                        ordering=ordering)


def warehouse_codes(storefront: Storefront) -> list[str]:
    """The warehouses serving ``storefront`` (one query, remembered on the object)."""
    codes = getattr(storefront, "_warehouse_codes", None)
    if codes is None:
        codes = sorted(Storefront.warehouses.through.objects.filter(storefront_id=storefront.pk)
                       .values_list("warehouse_id", flat=True))
        storefront._warehouse_codes = codes
    return codes


def ships_from(storefront: Storefront) -> list[str]:
    """The codes of the warehouses serving ``storefront`` in their own order (priority, code), as a
    product page lists them; one query, which also answers :func:`warehouse_codes` afterwards."""
    codes = list(storefront.warehouses.values_list("code", flat=True))
    storefront._warehouse_codes = sorted(codes)
    return codes


def in_stock_expression(storefront: Storefront):
    """True when some warehouse serving ``storefront`` has an available unit of the product's SKU.

    The codes are literals so the planner probes index stock_level_sku_idx (sku, warehouse) per
    row rather than hashing every stock level of the warehouses."""
    return Exists(StockLevel.objects.filter(
        sku_id=OuterRef("sku_id"), warehouse_id__in=warehouse_codes(storefront), on_hand__gt=F("reserved")))


def mark_stock(products, storefront: Storefront | None) -> None:
    """Set ``in_stock`` on a page of products: one query for the page, whatever its size."""
    if storefront is None:
        return
    if products and all(hasattr(p, "available_units") for p in products):
        # Read with the cards (load_cards): no query of its own.
        for product in products:
            product.in_stock = (product.available_units or 0) > 0
        return
    available = available_by_sku([p.sku_id for p in products], warehouse_codes(storefront))
    for product in products:
        product.in_stock = available.get(product.sku_id, 0) > 0


def available_by_sku(sku_ids, codes) -> dict[int, int]:
    from warehouses.selectors import available_by_sku as warehouses_available

    return warehouses_available(sku_ids, codes)


def product_search(*, user, query: ProductQuery):
    """The products matching ``query``, in the order asked for, as a lazy queryset.

    With a storefront: only what is on sale there, annotated with ``price_minor``,
    ``price_currency`` and ``in_stock``. Without: every product the user may see."""
    qs = Product.objects.all()
    if query.storefront is not None:
        # One join to the storefront's listing (index listing_sf_product_idx), reused by the
        # price filters and the price sort; is_visible already says "active, verified, admitted".
        offer = Q(listings__storefront_id=query.storefront.pk, listings__is_visible=True)
        if query.category_ids:
            # The listing's copy of the category, in the join's own condition: filtering on
            # offer__category_id afterwards made Django join the listings a second time.
            offer &= Q(listings__category_id__in=query.category_ids)
        qs = qs.annotate(offer=FilteredRelation("listings", condition=offer)).filter(offer__isnull=False)
        # ``listed`` is the listing's copy of the product id: sorting on it lets PostgreSQL walk
        # index listing_sf_product_idx backwards instead of every product.
        qs = qs.annotate(price_minor=F("offer__price_minor"), price_currency=F("offer__currency_id"),
                         listed=F("offer__product_id"))
        if query.price_min is not None:
            qs = qs.filter(price_minor__gte=query.price_min.minor)
        if query.price_max is not None:
            qs = qs.filter(price_minor__lte=query.price_max.minor)
        if query.in_stock is not None:
            stocked = in_stock_expression(query.storefront)
            qs = qs.filter(stocked if query.in_stock else ~stocked)
    else:
        qs = visible(user, qs)
        if query.in_stock is not None:
            raise field_error("in_stock", "Stock is per storefront: add storefront=.")
    if query.company_id is not None:
        qs = qs.filter(company_id=query.company_id)
    if query.category_ids and query.storefront is None:
        # (On a storefront the join to its listing carries the category, above.)
        qs = qs.filter(category_id__in=query.category_ids)
    if query.origin:
        qs = qs.filter(origin_country_id=query.origin)
    ranked = False
    if query.q:
        code = query.storefront.pk if query.storefront else None
        if search.is_postgres() and query.ordering in ("", "relevance"):
            # Ranked from the search table alone, the other filters as a semi-join: the sort
            # then carries (id, rank) rather than whole rows with their search vectors.
            # The storefront token in the index already means "on sale there": other filters
            # narrow through a semi-join.
            narrowed = any([query.category_ids, query.price_min, query.price_max, query.in_stock is not None,
                            query.origin, query.company_id]) or code is None
            ranked_qs = search.ranked(query.q, code, within=qs.values("pk") if narrowed else None)
            if ranked_qs is not None:
                return ranked_qs.order_by(*ORDERINGS["ranked"]), "ranked"
            return qs.none(), "newest"
        qs, ranked = search.filter_products(qs, query.q, code)
    ordering = query.ordering or ("relevance" if ranked else "newest")
    if ordering == "relevance" and not ranked:
        ordering = "newest"
    if query.storefront is not None and ordering in ("newest", "price", "-price"):
        ordering = {"newest": "listed", "price": "listed price", "-price": "-listed price"}[ordering]
    return qs.order_by(*ORDERINGS[ordering]), ordering


def page_fields(query: ProductQuery, ordering: str) -> list[str]:
    """The narrow columns a page of results is first read as (see :func:`load_cards`)."""
    if ordering == "ranked":
        return ["product_id", "relevance"]
    fields = ["id"]
    if query.storefront is not None:
        fields += ["price_minor", "price_currency", "listed"]
    if ordering == "relevance":
        fields.append("relevance")
    return fields


def load_cards(rows: list[dict], *, language: str, storefront: Storefront | None) -> list[Product]:
    """The products of a page read as narrow rows, with what their cards show: two queries.

    Sorting narrow rows keeps wide ones (texts, search vectors) out of the sort; the 24 products
    of the page are then fetched by primary key."""
    ids = [r.get("id", r.get("product_id")) for r in rows]
    qs = Product.objects.filter(pk__in=ids)
    if storefront is not None and rows and "price_minor" not in rows[0]:
        # Ranked search rows carry no price: read it here, and drop what is no longer on sale.
        qs = qs.annotate(offer=FilteredRelation("listings", condition=Q(
            listings__storefront_id=storefront.pk, listings__is_visible=True))).filter(offer__isnull=False).annotate(
            price_minor=F("offer__price_minor"), price_currency=F("offer__currency_id"))
    if storefront is not None:
        # Units available in the storefront's warehouses (as available_by_sku sums them), in the
        # same query: mark_stock then needs neither the warehouse codes nor the stock of its own
        # (two round trips of a page whose SQL is a fraction of its time).
        served = Storefront.warehouses.through.objects.filter(storefront_id=storefront.pk).values("warehouse_id")
        units = (StockLevel.objects.filter(sku_id=OuterRef("sku_id"), warehouse_id__in=served).order_by()
                 .values("sku_id").annotate(units=Sum(F("on_hand") - F("reserved"))).values("units"))
        qs = qs.annotate(available_units=Subquery(units))
    by_id = {p.pk: p for p in with_cards(qs, language=language, storefront=storefront)}
    products = []
    for row in rows:
        product = by_id.get(row.get("id", row.get("product_id")))
        if product is None:  # gone between the two queries
            continue
        for key in ("price_minor", "price_currency", "relevance"):
            if key in row:
                setattr(product, key, row[key])
        products.append(product)
    return products


# The languages a reader of each language can read, in order: a Kazakh or Uzbek reader reads Russian,
# everyone reads English; Chinese only a Chinese reader (or as the very last resort, when the
# product has no text in any language the reader knows).
FALLBACKS = {"kk": ["kk", "ru", "en"], "uz": ["uz", "ru", "en"], "ru": ["ru", "en"], "zh": ["zh", "en"], "en": ["en"]}


def card_languages(language: str, storefront: Storefront | None = None) -> list[str]:
    """The reader's language and its fallback chain (kk → ru → en, uz → ru → en, zh → en), then the
    storefront's own language, then the rest."""
    order = list(FALLBACKS.get(content_language(language), [content_language(language), "en"]))
    if storefront is not None:
        order.append(storefront.content_language)
    order += CONTENT_LANGUAGES
    return list(dict.fromkeys(order))


def with_cards(qs, *, language: str, storefront: Storefront | None, descriptions: bool = False):
    """What a product card shows, fetched for a page at once: two queries (rows, then texts)."""
    texts = ProductTranslation.objects.only("product_id", "language", "title")
    if descriptions:
        texts = ProductTranslation.objects.all()
    # Only what a card shows: the company's name and verification, the category's icon and name,
    # the cover. Countries are shown by code (company.country_id, origin_country_id), so they are
    # not joined: each joined row is a model built per product, and the page is CPU-bound.
    return qs.select_related("company", "category", "cover").defer(
        "attributes"
    ).prefetch_related(Prefetch("translations", queryset=texts, to_attr="texts"))


def product_titles(ids, language: str, *, by_sku: bool = False, any_language: bool = False) -> dict[int, str]:
    """Each product's title (``ids`` of products, or of their SKUs ``by_sku``) in ``language`` or the
    first of its fallbacks it is written in (kk → ru → en...), one query. A product written in none
    of them is absent, and the caller keeps the title it has (an order line's, in its storefront's
    language); ``any_language`` takes its title in any language then, as a card would."""
    chain = card_languages(language) if any_language else FALLBACKS.get(content_language(language),
                                                                          [content_language(language), "en"])
    rank = {code: i for i, code in enumerate(chain)}
    key = "product__sku_id" if by_sku else "product_id"
    rows = ProductTranslation.objects.filter(**{f"{key}__in": {pk for pk in ids if pk}, "language__in": chain})
    best: dict[int, tuple[int, str]] = {}
    for pk, code, title in rows.values_list(key, "language", "title"):
        if title and (pk not in best or rank[code] < best[pk][0]):
            best[pk] = (rank[code], title)
    return {pk: title for pk, (_rank, title) in best.items()}


def pick_text(product: Product, languages: list[str]) -> ProductTranslation | None:
    texts = {t.language: t for t in getattr(product, "texts", None) or product.translations.all()}
    for language in languages:
        if language in texts:
            return texts[language]
    return None


def decorate(products, *, languages: list[str], storefront: Storefront | None, fx: FxQuote | None = None):
    """Set ``title``, ``text``, ``price`` and ``converted`` on each product of a page (no query)."""
    for product in products:
        product.text = pick_text(product, languages)
        product.title = product.text.title if product.text else product.sku_code
        price_minor = getattr(product, "price_minor", None)
        product.price = Money(price_minor, product.price_currency) if price_minor is not None else None
        product.converted = fx.convert(product.price) if fx and product.price else None
    return products


# A product id no catalogue reaches, reversed once and replaced per card (see card_urls).
_URL_SENTINEL = 987654321987


def card_urls(products, *, storefront: Storefront, reader_language: str) -> None:
    """Set ``card_url`` (the product's page on ``storefront``) and ``card_lang`` (the language of the
    card's text when it is not the reader's, else "") on each product of a page. The product URL is
    reversed once per page, not once per card: 24 reverses were a tenth of the cards' rendering."""
    from django.urls import reverse

    head, tail = reverse("product", args=[_URL_SENTINEL]).split(str(_URL_SENTINEL))
    suffix = f"{tail}?storefront={storefront.code}"
    reader = (reader_language or "")[:2]
    for product in products:
        product.card_url = f"{head}{product.pk}{suffix}"
        text = product.text
        product.card_lang = text.language if text and text.language != reader else ""


def featured(*, storefronts: list[Storefront], per_storefront: int = 4) -> dict[str, list[Listing]]:
    """A few products per storefront for the home page, featured first, in one query.

    Ranked with a window function so the number of storefronts does not add queries."""
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    rows = list(
        Listing.objects.filter(is_visible=True, storefront__in=storefronts)
        .annotate(rank=Window(RowNumber(), partition_by=[F("storefront_id")],
                              order_by=[F("featured").desc(), F("product__cover_id").desc(nulls_last=True), F("id").desc()]))
        .filter(rank__lte=per_storefront)
        .select_related("product", "product__cover")
        .order_by("storefront_id", "rank")
    )
    by_storefront: dict[str, list[Listing]] = {}
    for row in rows:
        by_storefront.setdefault(row.storefront_id, []).append(row)
    return by_storefront


def product_detail(*, user, pk: int) -> Product:
    """A product with everything its page shows: company, category, photos, texts, prices."""
    from core.access import get_visible

    qs = Product.objects.select_related("company", "company__country", "category", "origin_country", "cover").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
        Prefetch("translations", queryset=ProductTranslation.objects.all(), to_attr="texts"),
        Prefetch("listings", queryset=visible(user, Listing.objects.select_related("storefront")), to_attr="offers"),
    )
    return get_visible(user, qs, pk=pk)


def available_quantity(*, product: Product, storefront: Storefront) -> int:
    """Units available to buyers of ``storefront`` (on hand minus reserved, in its warehouses)."""
    return max(0, int(available_by_sku([product.sku_id], warehouse_codes(storefront)).get(product.sku_id, 0)))


# --- money for the buyer ----------------------------------------------------------------------


@dataclass(frozen=True)
class FxQuote:
    source: str
    target: str
    rate: Decimal
    as_of: object = None

    def convert(self, money: Money) -> Money | None:
        if money.currency != self.source:
            return None
        return money.convert(self.rate, self.target)


def fx_rate(source: str, target: str) -> FxQuote | None:
    """Units of ``target`` per unit of ``source`` at payments' current rate; None without one."""
    if source == target:
        return None
    from payments.selectors import fx_rate as payments_fx_rate

    try:
        rate = payments_fx_rate(source, target)
    except DomainError:
        return None
    return FxQuote(source, target, Decimal(str(rate.rate)), rate.as_of)


def buyer_currency(user) -> str | None:
    """The currency of the buyer's wallet: their profile's currency when they hold a wallet in it,
    else the wallet with the most money; None without a wallet. Two queries."""
    if not getattr(user, "is_authenticated", False):
        return None
    from core.models import Profile
    from payments.interface import Owner
    from payments.selectors import wallet_currencies

    held = wallet_currencies(owner=Owner.user(user))
    if not held:
        return None
    preferred = Profile.objects.filter(user=user).values_list("currency_id", flat=True).first()
    return preferred if preferred in held else held[0]


def company_verdicts(company_ids) -> dict:
    """The latest verification event of each company (who decided, when, why), by company id; one
    query. Uses index transition_object_idx."""
    latest = {}
    for event in TransitionEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Company), object_id__in=list(company_ids),
        machine=COMPANY_VERIFICATION_MACHINE.name,
    ).order_by("object_id", "at", "id"):
        latest[event.object_id] = event
    return latest


# --- catalogue imports ------------------------------------------------------------------------


def import_list(*, user):
    """The imports of the user's companies, newest first (index catalogue_import_company_idx)."""
    from .models import CatalogueImport

    return visible(user, CatalogueImport.objects.select_related("company")).order_by("-id")


def import_get(*, user, pk):
    """One import the user may see, or 404."""
    from core.access import get_visible

    from .models import CatalogueImport

    return get_visible(user, CatalogueImport.objects.select_related("company"), pk=pk)


def import_progress(imp, now=None) -> dict:
    """What a progress bar shows: percent of rows read, rows per second so far, seconds left."""
    from django.utils import timezone

    processed = imp.rows_done + imp.rows_failed
    total = imp.rows_total
    if imp.status == "done":
        percent = 100
    else:
        percent = min(99, int(processed * 100 / total)) if total else 0
    rate, left = None, None
    if imp.started_at and processed:
        end = imp.finished_at or now or timezone.now()
        seconds = max((end - imp.started_at).total_seconds(), 0.001)
        rate = round(processed / seconds, 1)
        if imp.status == "running" and total:
            left = max(0, round((total - processed) / rate)) if rate else None
    if imp.status in ("done", "failed"):
        left = 0
    return {"percent": percent, "processed": processed, "rate": rate, "seconds_left": left}


def import_message(messages: dict, language: str | None) -> str:
    """A stored message (one text per site language) in ``language``, else in English."""
    language = (language or "en").lower()
    return messages.get(language) or messages.get(language.split("-")[0]) or messages.get("en") or ""


def import_errors(imp, *, language: str | None) -> list[dict]:
    """Every row error of an import in the reader's language, by row (one query; index
    import_error_row_idx)."""
    return [{"row": e.row, "column": e.column, "message": import_message(e.message, language)}
            for e in imp.errors.order_by("row", "id")]


def catalogue_storefronts(company) -> list:
    """The storefronts a company's file has price columns for: those it is admitted to or listed on."""
    from .models import StorefrontMembership

    listed = Listing.objects.filter(product__company=company).values("storefront_id")
    return list(Storefront.objects.filter(
        Q(memberships__company=company, memberships__status=StorefrontMembership.Status.APPROVED)
        | Q(code__in=listed)).distinct().order_by("position", "code"))


def catalogue_export(company) -> tuple[list[str], list[dict]]:
    """The company's products as the catalogue file holds them (the import reads them back): the
    header and one dict per product. Three queries."""
    from . import catalogue_io

    storefronts = catalogue_storefronts(company)
    header = catalogue_io.columns([s.code for s in storefronts])
    products = (Product.objects.filter(company=company).select_related("category").order_by("sku_code")
                .prefetch_related("translations", "listings"))
    rows = []
    for p in products:
        row = {"sku": p.sku_code, "category": p.category.slug, "hs_code": p.hs_code, "origin_country": p.origin_country_id,
               "net_weight_g": p.net_weight_g, "gross_weight_g": p.gross_weight_g}
        for t in p.translations.all():
            row[f"title_{t.language}"] = t.title
            row[f"description_{t.language}"] = t.description
        for listing in p.listings.all():
            row[f"price_{listing.storefront_id}"] = str(Money(listing.price_minor, listing.currency_id).amount)
        rows.append(row)
    return header, rows


def catalogue_template(company, kind: str) -> bytes:
    """An empty catalogue file with the company's columns; the XLSX adds a sheet explaining each
    column in the reader's language."""
    from django.utils.translation import gettext as _

    from . import catalogue_io

    storefronts = catalogue_storefronts(company)
    header = catalogue_io.columns([s.code for s in storefronts])
    if kind == "xlsx":
        return catalogue_io.write_xlsx(header, [], catalogue_io.column_help(storefronts),
                                       sheet_title=_("catalogue"), help_title=_("columns"))
    return catalogue_io.write_csv(header, [])


def catalogue_file(company, kind: str) -> bytes:
    """The company's catalogue as a CSV or XLSX file that the import reads back."""
    from django.utils.translation import gettext as _

    from . import catalogue_io

    header, rows = catalogue_export(company)
    if kind == "xlsx":
        return catalogue_io.write_xlsx(header, rows, sheet_title=_("catalogue"))
    return catalogue_io.write_csv(header, rows)
