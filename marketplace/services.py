"""Writes of the catalogue: companies, storefront membership, products, prices, photos."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import SYSTEM_ACTOR, company_ids, is_staff
from core.errors import DomainError, ErrorCode, field_error
from core.models import Company, CompanyMember, Country
from core.money import Money
from core.states import record_creation, transition
from core.tasks import enqueue
from core.taxids import validate_tax_id
from customs import selectors as customs_selectors
from customs import validation as customs_validation
from warehouses import services as warehouses_services

from . import images, search
from .models import (
    CONTENT_LANGUAGES,
    Category,
    Listing,
    Product,
    ProductImage,
    ProductSearch,
    ProductTranslation,
    SearchTerm,
    SellerCompany,
    Storefront,
    StorefrontMembership,
)

REFERENCE_DIR = Path(settings.BASE_DIR) / "reference"
MAX_WEIGHT_G = 1_000_000  # a tonne: parcels, not freight
MAX_SIDE_MM = 10_000


# --- companies --------------------------------------------------------------------------------


def _is_staff(actor) -> bool:
    """Staff (core.access.is_staff, superusers included) or the system."""
    return actor is SYSTEM_ACTOR or is_staff(actor)


def _require_member(actor, company_id: int) -> None:
    if _is_staff(actor):
        return
    if company_id not in company_ids(actor):
        # Existence of another company's objects is not disclosed.
        raise DomainError(ErrorCode.NOT_FOUND, _("Not found."))


def company_register(*, user, name: str, country: str, tax_id: str, actor) -> Company:
    """A new seller company with ``user`` as its owner, pending staff verification."""
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Enter the company's legal name."))
    if not Country.objects.filter(iso2=(country or "").upper()).exists():
        raise field_error("country", _("Unknown country."), ErrorCode.UNKNOWN_COUNTRY)
    checked = validate_tax_id(country, tax_id)
    if Company.objects.filter(country_id=checked.country, tax_id=checked.value).exists():
        raise DomainError(ErrorCode.CONFLICT, _("A company with this tax id is already registered."),
                          {"tax_id": [_("Already registered: ask its owner to add you as a manager.")]})
    with transaction.atomic():
        company = SellerCompany.objects.create(name=name, country_id=checked.country, tax_id=checked.value,
                                               needs_manual_check=checked.needs_manual_check)
        CompanyMember.objects.create(company=company, user=user, role=CompanyMember.Role.OWNER)
        # The first event of its verification history: who registered it, and when.
        record_creation(company, actor=actor)
    if hasattr(user, "_karavan_companies"):
        del user._karavan_companies
    return company


def company_member_add(*, company: Company, user, role: str, actor) -> CompanyMember:
    if not _is_staff(actor) and not CompanyMember.objects.filter(
        company=company, user=actor, role=CompanyMember.Role.OWNER
    ).exists():
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("Only the company's owner may add members."))
    if role not in CompanyMember.Role.values:
        raise field_error("role", _("Unknown role."))
    member, _created = CompanyMember.objects.update_or_create(company=company, user=user, defaults={"role": role})
    return member


def company_verification_set(*, company: Company, verification: str, actor, reason: str = "") -> Company:
    """Staff's verdict on a company's papers, recorded with who gave it, when and why (the
    ``company_verification`` machine of marketplace/states.py). A rejection says why: the seller
    reads it on its company page. A company no longer verified disappears from sale."""
    if not _is_staff(actor):
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("Only staff verify companies."))
    if verification not in Company.Verification.values:
        raise field_error("verification", _("Unknown verification status."))
    reason = (reason or "").strip()
    if verification == Company.Verification.REJECTED and not reason:
        raise field_error("reason", _("Say why the company is rejected: its owner will read it."))
    with transaction.atomic():
        transition(SellerCompany.of(company), verification, actor=actor, reason=reason)
        company.refresh_from_db(fields=["verification"])
        listings_refresh(company_id=company.pk)
    return company


# --- storefront membership --------------------------------------------------------------------


def storefront_admits(storefront: Storefront, company: Company) -> bool:
    """A pavilion admits companies of its country; a China-goods storefront, Chinese companies."""
    return storefront.seller_country_id == company.country_id


def storefront_join_request(*, company: Company, storefront: Storefront, actor, note: str = "") -> StorefrontMembership:
    _require_member(actor, company.pk)
    if not storefront_admits(storefront, company):
        message = _("%(storefront)s admits only companies registered in %(country)s.") % {
            "storefront": storefront.name_en, "country": storefront.seller_country_id}
        raise DomainError(ErrorCode.STOREFRONT_NOT_ALLOWED, message, {"storefront": [message]})
    membership = StorefrontMembership.objects.filter(company=company, storefront=storefront).first()
    if membership is None:
        return StorefrontMembership.objects.create(
            company=company, storefront=storefront, note=note, requested_at=timezone.now(),
            requested_by=actor if getattr(actor, "pk", None) else None,
        )
    if membership.status == StorefrontMembership.Status.REJECTED:
        transition(membership, StorefrontMembership.Status.REQUESTED, actor=actor, reason=note,
                   extra_updates={"requested_at": timezone.now(), "note": note})
    return membership


def storefront_membership_decide(*, membership: StorefrontMembership, to: str, actor, reason: str = "") -> StorefrontMembership:
    """Staff approves, rejects or suspends; the company's listings there follow."""
    transition(membership, to, actor=actor, reason=reason, extra_updates={"decided_at": timezone.now()})
    listings_refresh(company_id=membership.company_id, storefront_id=membership.storefront_id)
    return membership


def listings_refresh(*, company_id: int | None = None, product_id: int | None = None,
                     storefront_id: str | None = None) -> int:
    """Recompute ``Listing.is_visible``: product active, listing on, company verified and admitted.

    The products whose visibility changed get their search tokens rebuilt: the tokens carry the
    storefronts a product is on sale on."""
    qs = Listing.objects.all()
    if company_id is not None:
        qs = qs.filter(product__company_id=company_id)
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    if storefront_id is not None:
        qs = qs.filter(storefront_id=storefront_id)
    admitted = StorefrontMembership.objects.filter(
        company_id=OuterRef("product__company_id"), storefront_id=OuterRef("storefront_id"),
        status=StorefrontMembership.Status.APPROVED,
    )
    visible = qs.filter(
        Exists(admitted), is_enabled=True, product__status=Product.Status.ACTIVE,
        product__company__verification=Company.Verification.VERIFIED,
    ).values("pk")
    hide = qs.filter(is_visible=True).exclude(pk__in=visible)
    show = qs.filter(is_visible=False, pk__in=visible)
    products = set(hide.values_list("product_id", flat=True)) | set(show.values_list("product_id", flat=True))
    if not products:
        return 0
    changed = Listing.objects.filter(pk__in=list(hide.values_list("pk", flat=True))).update(is_visible=False)
    changed += Listing.objects.filter(pk__in=list(show.values_list("pk", flat=True))).update(is_visible=True)
    ids = sorted(products)
    for start in range(0, len(ids), 500):
        search_index(product_ids=ids[start:start + 500])
    return changed


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
        cleaned[language] = {"title": title, "description": description[:20_000]}
    return cleaned


def _clean_prices(company: Company, prices: dict) -> dict[str, Money | None]:
    """Storefront code -> price (None removes the listing), checked against membership and currency."""
    if not isinstance(prices, dict):
        raise field_error("prices", _("Expected an object keyed by storefront."))
    storefronts = {s.code: s for s in Storefront.objects.filter(code__in=list(prices))}
    approved = set(StorefrontMembership.objects.filter(
        company=company, status=StorefrontMembership.Status.APPROVED).values_list("storefront_id", flat=True))
    cleaned: dict[str, Money | None] = {}
    for code, price in prices.items():
        storefront = storefronts.get(code)
        if storefront is None:
            raise field_error(f"prices.{code}", _("Unknown storefront."))
        if price is None:
            cleaned[code] = None
            continue
        if code not in approved:
            message = _("Your company has not been admitted to %(storefront)s yet.") % {"storefront": storefront.name_en}
            raise DomainError(ErrorCode.STOREFRONT_NOT_ALLOWED, message, {f"prices.{code}": [message]})
        if not isinstance(price, Money):
            price = Money.from_api(price, f"prices.{code}")
        if price.currency != storefront.currency_id:
            message = _("Prices on %(storefront)s are in %(currency)s.") % {
                "storefront": storefront.name_en, "currency": storefront.currency_id}
            raise DomainError(ErrorCode.CURRENCY_MISMATCH, message, {f"prices.{code}": [message]})
        if price.minor <= 0:
            raise field_error(f"prices.{code}", _("The price must be positive."), ErrorCode.INVALID_AMOUNT)
        cleaned[code] = price
    return cleaned


PRODUCT_FIELDS = ("sku_code", "category", "hs_code", "origin_country", "net_weight_g", "gross_weight_g",
                  "length_mm", "width_mm", "height_mm", "attributes")


def product_create(*, company: Company, actor, translations: dict, prices: dict | None = None,
                   status: str = Product.Status.DRAFT, **fields) -> Product:
    """A product of ``company``, its SKU in the warehouses, its texts and prices, in one transaction."""
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


# --- search index -----------------------------------------------------------------------------


def search_index(*, product_ids: list[int]) -> None:
    """Rebuild what search reads of these products: tokens of their translations and the
    storefronts they are listed on (and the lexicon of words typo correction draws on)."""
    texts: dict[int, tuple[list[str], list[str], list[str]]] = {pk: ([], [], []) for pk in product_ids}
    for pk, title, description in ProductTranslation.objects.filter(product_id__in=product_ids).values_list(
        "product_id", "title", "description"
    ):
        texts[pk][0].append(title)
        texts[pk][1].append(description)
    # Only where the product is on sale: a search on a storefront then needs nothing but the index.
    for pk, code in Listing.objects.filter(product_id__in=product_ids, is_visible=True).values_list(
        "product_id", "storefront_id"
    ):
        texts[pk][2].append(search.storefront_token(code))
    words: set[str] = set()
    for pk, (titles, bodies, storefronts) in texts.items():
        title_tokens, body_tokens = search.document(titles, bodies)
        sf_tokens = " ".join(sorted(storefronts))
        values = {"text": f"{title_tokens}\n{body_tokens}\n{sf_tokens}"}
        if search.is_postgres():
            # PostgreSQL searches the vector alone; leaving the text out halves the rows the
            # search has to read.
            values = {"text": "", "vector": search.vector_expression(title_tokens, body_tokens, sf_tokens)}
        if not ProductSearch.objects.filter(product_id=pk).update(**values):
            ProductSearch.objects.create(product_id=pk, text=values["text"])
            if "vector" in values:
                ProductSearch.objects.filter(product_id=pk).update(vector=values["vector"])
        words |= search.lexicon_words(title_tokens) | search.lexicon_words(body_tokens)
    if words:
        SearchTerm.objects.bulk_create([SearchTerm(word=w[:64]) for w in words], ignore_conflicts=True)


# --- photos -----------------------------------------------------------------------------------


def product_image_add(*, product: Product, upload, actor, alt: str = "") -> ProductImage:
    """Check, clean and store a photo; thumbnails follow from Celery. A refused upload leaves
    no file and no row."""
    _require_member(actor, product.company_id)
    if ProductImage.objects.filter(product=product).count() >= settings.MARKETPLACE_IMAGES_PER_PRODUCT:
        raise field_error("image", _("A product has at most %(n)s photos.") % {"n": settings.MARKETPLACE_IMAGES_PER_PRODUCT},
                          ErrorCode.INVALID_IMAGE)
    encoded = images.normalize(images.read_upload(upload))
    name = default_storage.save(f"products/{product.pk}/{uuid.uuid4().hex}.webp", ContentFile(encoded.data))
    try:
        with transaction.atomic():
            position = ProductImage.objects.filter(product=product).count()
            image = ProductImage.objects.create(
                product=product, file=name, width=encoded.width, height=encoded.height,
                size_bytes=len(encoded.data), position=position, alt=(alt or "")[:200],
            )
            if product.cover_id is None:
                Product.objects.filter(pk=product.pk, cover__isnull=True).update(cover=image)
                product.cover = image
    except BaseException:
        default_storage.delete(name)
        raise
    from .tasks import make_thumbnails

    enqueue(make_thumbnails, image.pk)
    return image


def product_image_delete(*, image: ProductImage, actor) -> None:
    _require_member(actor, image.product.company_id)
    names = [image.file, *image.thumbnails.values()]
    product_id = image.product_id
    with transaction.atomic():
        image.delete()
        product = Product.objects.select_for_update().get(pk=product_id)
        if product.cover_id is None:
            first = ProductImage.objects.filter(product_id=product_id).order_by("position", "id").first()
            if first:
                product.cover = first
                product.save(update_fields=["cover"])
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def image_thumbnails_make(*, image_id: int) -> dict:
    """Make the missing thumbnails of a photo. Safe to run twice: existing ones are kept."""
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None:  # deleted meanwhile
        return {}
    with default_storage.open(image.file, "rb") as fh:
        data = fh.read()
    made = dict(image.thumbnails)
    stem = image.file.rsplit(".", 1)[0]
    for width in settings.MARKETPLACE_THUMBNAIL_SIZES:
        if str(width) in made and default_storage.exists(made[str(width)]):
            continue
        if width >= image.width:
            made[str(width)] = image.file  # never upscale: the original is already small enough
            continue
        name = f"{stem}_{width}.webp"
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(images.thumbnail(data, width)))
        made[str(width)] = name
    ProductImage.objects.filter(pk=image.pk).update(thumbnails=made)
    return made
