"""marketplace services: products."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import plaintext
from core.errors import DomainError, ErrorCode, field_error
from core.models import Company, Country
from core.money import Money
from core.states import transition
from customs import selectors as customs_selectors
from customs import validation as customs_validation
from warehouses import services as warehouses_services

from ..models import (
    CONTENT_LANGUAGES,
    Category,
    Listing,
    Product,
    ProductTranslation,
    Storefront,
    StorefrontMembership,
)
from .companies import _require_member, listings_refresh
from .images import product_photos_add
from .indexing import search_index

MAX_WEIGHT_G = 1_000_000  # a tonne: parcels, not freight
MAX_SIDE_MM = 10_000
# The highest price of one unit, in major units of any storefront currency: a billion (about 80,000
# USD in sum, far beyond any parcel in yuan or tenge), far below the columns' overflow. A price above
# it is a typing slip. The editor, the API and the catalogue import all refuse it through
# price_validate.
PRICE_MAX_MAJOR = 1_000_000_000

# --- products ---------------------------------------------------------------------------------


def hs_code_validate(code: str) -> str:
    """6 to 10 digits in a known chapter, with a rate customs can find: the HS-6 heading is in the
    reference list, or staff entered a tariff line for the code."""
    try:
        code = customs_validation.hs_code(code, "hs_code")
    except DomainError as exc:
        raise field_error("hs_code", _("An HS code has 6 to 10 digits in a known chapter, e.g. 040900 or 8517130000."),
                          ErrorCode.INVALID_HS_CODE) from exc
    if not customs_selectors.hs_code_known(code):
        raise field_error("hs_code", _("HS heading %(code)s is not in the customs reference: ask staff to add it with its rate.")
                          % {"code": code[:6]}, ErrorCode.INVALID_HS_CODE)
    return code


def _sku_upsert(*, company_id: int, code: str, name: str, hs_code: str, origin_country: str, weight_g: int, actor):
    """The warehouses' SKU behind a product."""
    return warehouses_services.sku_upsert(company_id=company_id, code=code, name=name, hs_code=hs_code,
                                          origin_country=origin_country, weight_g=weight_g, actor=actor)


def _positive_int(value, field: str, *, maximum: int, required: bool = True) -> int | None:
    if value in (None, ""):
        if required:
            raise field_error(field, _("This field is required."))
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise field_error(field, _("Enter a whole number.")) from None
    if isinstance(value, float) or number <= 0 or number > maximum:
        raise field_error(field, _("Enter a whole number between 1 and %(max)s.") % {"max": maximum})
    return number


def _clean_translations(translations: dict) -> dict[str, dict]:
    if not isinstance(translations, dict):
        raise field_error("translations", _("Expected an object keyed by language."))
    cleaned = {}
    for language, text in translations.items():
        if language not in CONTENT_LANGUAGES:
            raise field_error("translations", _("Unknown language %(lang)s (use %(langs)s).")
                              % {"lang": language, "langs": ", ".join(CONTENT_LANGUAGES)})
        if text is None:
            cleaned[language] = None  # remove
            continue
        title = str(text.get("title", "")).strip() if isinstance(text, dict) else ""
        description = str(text.get("description", "")).strip() if isinstance(text, dict) else ""
        if not title:
            raise field_error(f"translations.{language}.title", _("Enter a title."))
        if len(title) > 200:
            raise field_error(f"translations.{language}.title", _("At most 200 characters."))
        for name, value, multiline in (("title", title, False), ("description", description, True)):
            if hidden := plaintext.hidden_character(value, multiline=multiline):
                raise field_error(f"translations.{language}.{name}", plaintext.hidden_message(hidden))
        cleaned[language] = {"title": title, "description": description[:20_000]}
    return cleaned


def _clean_prices(company: Company, prices: dict) -> dict[str, Money | None]:
    """Storefront code -> price (None removes the listing), checked against membership and currency."""
    if not isinstance(prices, dict):
        raise field_error("prices", _("Expected an object keyed by storefront."))
    rules = price_rules(company, list(prices))
    return {code: price_clean(rules, code, price) for code, price in prices.items()}


def price_rules(company: Company, codes: list[str]) -> tuple[dict[str, Storefront], set[str]]:
    """What :func:`price_clean` checks a price against: the storefronts named, and those the company
    is admitted to (two queries, once for many prices: the catalogue import checks a file with them)."""
    storefronts = {s.code: s for s in Storefront.objects.filter(code__in=list(codes))}
    approved = set(StorefrontMembership.objects.filter(
        company=company, status=StorefrontMembership.Status.APPROVED).values_list("storefront_id", flat=True))
    return storefronts, approved


def price_clean(rules: tuple[dict[str, Storefront], set[str]], code: str, price) -> Money | None:
    """One price on storefront ``code`` (Money, or {"amount", "currency"}; None removes it)."""
    storefronts, approved = rules
    storefront = storefronts.get(code)
    if storefront is None:
        raise field_error(f"prices.{code}", _("Unknown storefront."))
    if price is None:
        return None
    if code not in approved:
        message = _("Your company has not been admitted to %(storefront)s yet.") % {"storefront": storefront.name_en}
        raise DomainError(ErrorCode.STOREFRONT_NOT_ALLOWED, message, {f"prices.{code}": [message]})
    if not isinstance(price, Money):
        price = Money.from_api(price, f"prices.{code}")
    if price.currency != storefront.currency_id:
        message = _("Prices on %(storefront)s are in %(currency)s.") % {
            "storefront": storefront.name_en, "currency": storefront.currency_id}
        raise DomainError(ErrorCode.CURRENCY_MISMATCH, message, {f"prices.{code}": [message]})
    return price_validate(price, f"prices.{code}")


def price_validate(price: Money, field: str = "price") -> Money:
    """A unit price is positive and at most PRICE_MAX_MAJOR in its currency (a field error otherwise)."""
    from django.utils.translation import get_language

    if price.minor <= 0:
        raise field_error(field, _("The price must be positive."), ErrorCode.INVALID_AMOUNT)
    if price.amount > PRICE_MAX_MAJOR:
        ceiling = Money.of(PRICE_MAX_MAJOR, price.currency).format(get_language() or "en")
        raise field_error(field, _("A price is at most %(max)s.") % {"max": ceiling}, ErrorCode.INVALID_AMOUNT)
    return price


PRODUCT_FIELDS = ("sku_code", "category", "hs_code", "origin_country", "net_weight_g", "gross_weight_g",
                  "length_mm", "width_mm", "height_mm", "attributes")


def product_create(*, company: Company, actor, translations: dict, prices: dict | None = None,
                   status: str = Product.Status.DRAFT, photos: list | tuple = (), cover: int | None = None,
                   **fields) -> Product:
    """A product of ``company``, its SKU in the warehouses, its texts, prices and photos (``cover``:
    the index of the cover among them), in one transaction: a refused photo creates nothing."""
    _require_member(actor, company.pk)
    for required in ("sku_code", "category", "hs_code", "origin_country", "net_weight_g"):
        if fields.get(required) in (None, ""):
            raise field_error(required, _("This field is required."))
    with transaction.atomic():
        product = Product(company=company)
        _apply(product, fields, creating=True)
        if Product.objects.filter(company=company, sku_code=product.sku_code).exists():
            raise DomainError(ErrorCode.DUPLICATE_SKU, _("Your company already has a product with this SKU."),
                              {"sku_code": [_("Already used by another of your products.")]})
        cleaned = _clean_translations(translations or {})
        if not any(cleaned.values()):
            raise field_error("translations", _("Give the product a title in at least one language."))
        product.sku = _sku_for(product, cleaned, actor)
        try:
            with transaction.atomic():
                product.save()
        except IntegrityError:
            raise DomainError(ErrorCode.DUPLICATE_SKU, _("Your company already has a product with this SKU."),
                              {"sku_code": [_("Already used by another of your products.")]}) from None
        _write_translations(product, cleaned)
        _write_prices(product, _clean_prices(company, prices or {}))
        if photos:
            product_photos_add(product=product, uploads=list(photos), cover=cover, actor=actor)
        if status != Product.Status.DRAFT:
            product_status_set(product=product, status=status, actor=actor)
        else:
            listings_refresh(product_id=product.pk)
    return product


def product_update(*, product: Product, actor, translations: dict | None = None, prices: dict | None = None,
                   status: str | None = None, **fields) -> Product:
    """Change what is given (a PATCH): texts per language, prices per storefront, attributes."""
    _require_member(actor, product.company_id)
    with transaction.atomic():
        product = Product.objects.select_for_update().select_related("company").get(pk=product.pk)
        changed = _apply(product, fields, creating=False)
        if "sku_code" in changed and Product.objects.filter(
            company_id=product.company_id, sku_code=product.sku_code
        ).exclude(pk=product.pk).exists():
            raise DomainError(ErrorCode.DUPLICATE_SKU, _("Your company already has a product with this SKU."),
                              {"sku_code": [_("Already used by another of your products.")]})
        cleaned = _clean_translations(translations) if translations is not None else {}
        if changed:
            product.save(update_fields=[*changed, "updated_at"])
        if "category" in changed:
            Listing.objects.filter(product=product).update(category_id=product.category_id)
        if cleaned:
            _write_translations(product, cleaned)
            if not product.translations.exists():
                raise field_error("translations", _("Give the product a title in at least one language."))
        if changed & {"sku_code", "hs_code", "origin_country", "gross_weight_g"} or "en" in cleaned:
            titles = _titles(product)
            sku = _sku_upsert(company_id=product.company_id, code=product.sku_code, name=_best_title(titles),
                              hs_code=product.hs_code, origin_country=product.origin_country_id,
                              weight_g=product.gross_weight_g, actor=actor)
            if sku.pk != product.sku_id:
                product.sku = sku
                product.save(update_fields=["sku"])
        if prices is not None:
            _write_prices(product, _clean_prices(product.company, prices))
        if status is not None and status != product.status:
            product_status_set(product=product, status=status, actor=actor)
        else:
            listings_refresh(product_id=product.pk)
    return product


def _apply(product: Product, fields: dict, *, creating: bool) -> set[str]:
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], _("Unknown field."))
    changed: set[str] = set()
    if "sku_code" in fields:
        code = str(fields["sku_code"] or "").strip()
        if not code or len(code) > 64 or any(c.isspace() for c in code):
            raise field_error("sku_code", _("An SKU is 1 to 64 characters without spaces."))
        if hidden := plaintext.hidden_character(code):
            raise field_error("sku_code", plaintext.hidden_message(hidden))
        product.sku_code = code
        changed.add("sku_code")
    if "category" in fields:
        category = fields["category"]
        if not isinstance(category, Category):
            category = Category.objects.filter(slug=category).first()
            if category is None:
                raise field_error("category", _("Unknown category."))
        product.category = category
        changed.add("category")
    if "hs_code" in fields:
        product.hs_code = hs_code_validate(fields["hs_code"])
        changed.add("hs_code")
    if "origin_country" in fields:
        origin = getattr(fields["origin_country"], "iso2", fields["origin_country"])
        origin = str(origin or "").upper()
        if not Country.objects.filter(iso2=origin).exists():
            raise field_error("origin_country", _("Unknown country."), ErrorCode.UNKNOWN_COUNTRY)
        product.origin_country_id = origin
        changed.add("origin_country")
    for name in ("net_weight_g", "gross_weight_g"):
        if name in fields:
            setattr(product, name, _positive_int(fields[name], name, maximum=MAX_WEIGHT_G, required=name == "net_weight_g"))
            changed.add(name)
    if creating and not product.gross_weight_g:
        product.gross_weight_g = product.net_weight_g
    if "net_weight_g" in changed or "gross_weight_g" in changed:
        if product.gross_weight_g is None:
            product.gross_weight_g = product.net_weight_g
        if product.gross_weight_g < product.net_weight_g:
            raise field_error("gross_weight_g", _("The gross weight (with packaging) cannot be below the net weight."))
        changed |= {"net_weight_g", "gross_weight_g"}
    for name in ("length_mm", "width_mm", "height_mm"):
        if name in fields:
            setattr(product, name, _positive_int(fields[name], name, maximum=MAX_SIDE_MM, required=False))
            changed.add(name)
    if "attributes" in fields:
        attributes = fields["attributes"] or {}
        if not isinstance(attributes, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int) and not isinstance(v, bool) for k, v in attributes.items()
        ):
            raise field_error("attributes", _("Attributes are names with text or number values."))
        if len(attributes) > 40:
            raise field_error("attributes", _("At most 40 attributes."))
        product.attributes = {k.strip()[:60]: (v.strip()[:200] if isinstance(v, str) else v) for k, v in attributes.items()}
        changed.add("attributes")
    return changed


def _sku_for(product: Product, translations: dict, actor):
    titles = {lang: t["title"] for lang, t in translations.items() if t}
    return _sku_upsert(company_id=product.company_id, code=product.sku_code, name=_best_title(titles),
                       hs_code=product.hs_code, origin_country=product.origin_country_id,
                       weight_g=product.gross_weight_g, actor=actor)


def _titles(product: Product) -> dict[str, str]:
    return dict(product.translations.values_list("language", "title"))


def _best_title(titles: dict[str, str]) -> str:
    for language in ("en", "ru", "zh", *CONTENT_LANGUAGES):
        if titles.get(language):
            return titles[language]
    return ""


def _write_translations(product: Product, cleaned: dict) -> None:
    removed = [lang for lang, text in cleaned.items() if text is None]
    if removed:
        ProductTranslation.objects.filter(product=product, language__in=removed).delete()
    for language, text in cleaned.items():
        if text is not None:
            ProductTranslation.objects.update_or_create(product=product, language=language, defaults=text)
    search_index(product_ids=[product.pk])


def _write_prices(product: Product, prices: dict[str, Money | None]) -> None:
    removed = [code for code, price in prices.items() if price is None]
    if removed:
        Listing.objects.filter(product=product, storefront_id__in=removed).delete()
    for code, price in prices.items():
        if price is not None:
            Listing.objects.update_or_create(
                product=product, storefront_id=code,
                defaults={"price_minor": price.minor, "currency_id": price.currency, "is_enabled": True,
                          "category_id": product.category_id},
            )
    if prices:
        search_index(product_ids=[product.pk])


def product_status_set(*, product: Product, status: str, actor) -> Product:
    """Publish, withdraw or archive. Publishing needs a verified company, a title and a price."""
    _require_member(actor, product.company_id)
    if status == Product.Status.ACTIVE:
        company = Company.objects.only("verification").get(pk=product.company_id)
        if company.verification != Company.Verification.VERIFIED:
            raise DomainError(ErrorCode.COMPANY_NOT_VERIFIED,
                              _("Products go on sale once staff has verified your company."),
                              {"status": [_("Your company is awaiting verification.")]})
        if not product.translations.exists():
            raise DomainError(ErrorCode.PRODUCT_INCOMPLETE, _("Give the product a title before publishing it."),
                              {"translations": [_("Give the product a title in at least one language.")]})
        if not product.listings.exists():
            raise DomainError(ErrorCode.PRODUCT_INCOMPLETE, _("Set a price on at least one storefront before publishing."),
                              {"prices": [_("Set a price on at least one storefront.")]})
    if status not in Product.Status.values:
        raise field_error("status", _("Unknown status."))
    transition(product, status, actor=actor)
    listings_refresh(product_id=product.pk)
    return product
