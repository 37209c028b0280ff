from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import Company, Named

from .states import (
    CATALOGUE_IMPORT_MACHINE,
    COMPANY_VERIFICATION_MACHINE,
    PRODUCT_MACHINE,
    STOREFRONT_MEMBERSHIP_MACHINE,
    ImportStatus,
    MembershipStatus,
    ProductStatus,
)

# Languages a product is written in. "zh" is Simplified Chinese (Django's zh-hans).
CONTENT_LANGUAGES = ["en", "ru", "zh", "kk", "uz"]
CONTENT_LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "zh": "简体中文", "kk": "Қазақша", "uz": "Oʻzbekcha"}


def content_language(django_language: str | None) -> str:
    """Django's language code -> the product content language ("zh-hans" -> "zh")."""
    code = (django_language or "en").lower()
    if code.startswith("zh"):
        return "zh"
    code = code.split("-")[0]
    return code if code in CONTENT_LANGUAGES else "en"


class Storefront(Named, models.Model):
    """A national pavilion (that country's goods for buyers in China) or a China-goods storefront
    stocked in an overseas bonded warehouse for local buyers."""

    class Kind(models.TextChoices):
        PAVILION = "pavilion", _("National pavilion")
        CHINA_GOODS = "china_goods", _("China goods")

    code = models.SlugField(max_length=16, primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Pavilion: the country whose companies sell here. China goods: CN.
    seller_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    default_language = models.CharField(max_length=8)
    markets = models.ManyToManyField("core.Country", related_name="+", help_text=_("Countries it delivers to"))
    warehouses = models.ManyToManyField("warehouses.Warehouse", related_name="storefronts", blank=True)
    name_en = models.CharField(max_length=100)
    name_ru = models.CharField(max_length=100)
    name_zh = models.CharField(max_length=100)
    name_kk = models.CharField(max_length=100, blank=True)
    name_uz = models.CharField(max_length=100, blank=True)
    flag = models.CharField(max_length=8, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("storefront")
        verbose_name_plural = _("Storefronts")

    def __str__(self):
        return self.code

    @property
    def content_language(self) -> str:
        return content_language(self.default_language)


class SellerCompany(Company):
    """A company as the marketplace sees it: a seller whose papers staff verifies.

    A proxy of core.Company (the same table and rows) that carries the verification machine of
    marketplace/states.py, so that ``core.states.transition`` can move ``verification`` and record
    who did it, while core itself knows nothing of the marketplace's rules.
    """

    machine = COMPANY_VERIFICATION_MACHINE

    class Meta:
        proxy = True
        verbose_name = _("seller company")
        verbose_name_plural = _("seller companies")

    @classmethod
    def of(cls, company: Company) -> "SellerCompany":
        """The same row seen as a seller, without a query."""
        seller = cls(**{f.attname: getattr(company, f.attname) for f in cls._meta.concrete_fields})
        seller._state.adding, seller._state.db = company._state.adding, company._state.db
        return seller


class StorefrontMembership(models.Model):
    """A company's request to sell on a storefront, and staff's decision on it."""

    Status = MembershipStatus
    machine = STOREFRONT_MEMBERSHIP_MACHINE

    company = models.ForeignKey("core.Company", on_delete=models.CASCADE, related_name="storefront_memberships")
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, related_name="memberships")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    note = models.TextField(blank=True, help_text=_("What the company tells staff, or staff's reason."))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "storefront"], name="membership_once")]
        ordering = ["storefront__position", "company__name"]

    def __str__(self):
        return f"{self.company} on {self.storefront_id} ({self.status})"


class Category(models.Model):
    """A node of the catalogue tree. ``path`` (slugs joined by "/") lets a category filter take
    its descendants with one prefix test."""

    slug = models.SlugField(max_length=64, unique=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    path = models.CharField(max_length=255, unique=True, editable=False)
    name_en = models.CharField(max_length=100)
    name_ru = models.CharField(max_length=100)
    name_zh = models.CharField(max_length=100)
    name_kk = models.CharField(max_length=100, blank=True)
    name_uz = models.CharField(max_length=100, blank=True)
    icon = models.CharField(max_length=8, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = _("categories")
        ordering = ["path"]

    def __str__(self):
        return self.path

    def name(self, language: str) -> str:
        value = getattr(self, f"name_{content_language(language)}", "")
        return value or self.name_en

    @property
    def depth(self) -> int:
        return self.path.count("/")


class Product(models.Model):
    """What a company sells. Price lives per storefront (:class:`Listing`); stock lives in the
    warehouses' :class:`~warehouses.models.Sku`, which the checkout reads through ``sku``."""

    Status = ProductStatus
    machine = PRODUCT_MACHINE

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="products")
    sku = models.OneToOneField("warehouses.Sku", on_delete=models.PROTECT, related_name="product")
    # The seller's own code, unique per company (mirrors sku.code so the page needs no join).
    sku_code = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    hs_code = models.CharField(max_length=10)
    origin_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    net_weight_g = models.PositiveIntegerField()
    gross_weight_g = models.PositiveIntegerField()
    length_mm = models.PositiveIntegerField(null=True, blank=True)
    width_mm = models.PositiveIntegerField(null=True, blank=True)
    height_mm = models.PositiveIntegerField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text=_("Name/value pairs shown on the product page"))
    cover = models.ForeignKey("ProductImage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "sku_code"], name="product_sku_per_company"),
            models.CheckConstraint(condition=models.Q(gross_weight_g__gte=models.F("net_weight_g")),
                                   name="product_gross_gte_net"),
        ]
        indexes = [
            models.Index(fields=["company", "status"], name="product_company_status_idx"),
            models.Index(fields=["category", "status"], name="product_category_idx"),
        ]

    def __str__(self):
        return f"{self.sku_code} ({self.company_id})"


class ProductTranslation(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8, choices=[(c, CONTENT_LANGUAGE_NAMES[c]) for c in CONTENT_LANGUAGES])
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "language"], name="translation_once")]

    def __str__(self):
        return f"{self.product_id}/{self.language}: {self.title}"


class Listing(models.Model):
    """A product offered on a storefront at a price in that storefront's currency.

    ``is_visible`` (product active and listing on) is kept by the services so the storefront
    query needs no join to decide what shows.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="listings")
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, related_name="listings")
    price_minor = models.BigIntegerField()
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    is_enabled = models.BooleanField(default=True)
    is_visible = models.BooleanField(default=False)
    # The product's category, copied by the services: storefront pages filter on it without a
    # join (index listing_sf_category_idx).
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    featured = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "storefront"], name="listing_once"),
            models.CheckConstraint(condition=models.Q(price_minor__gt=0), name="listing_price_positive"),
        ]
        indexes = [
            # Uses: storefront pages sorted by price, price-range filters. The product ends each
            # index so that the tie-break of a sort is read from it too: the first page of a
            # price sort then reads 25 index entries, not every listing of the storefront.
            models.Index(fields=["storefront", "is_visible", "price_minor", "product"], name="listing_sf_price_idx"),
            # Uses: storefront pages, newest first.
            models.Index(fields=["storefront", "is_visible", "product"], name="listing_sf_product_idx"),
            # Uses: a category of a storefront sorted by price, and newest first.
            models.Index(fields=["storefront", "is_visible", "category", "price_minor", "product"],
                         name="listing_sf_category_idx"),
            models.Index(fields=["storefront", "is_visible", "category", "product"], name="listing_sf_cat_new_idx"),
        ]

    def __str__(self):
        return f"{self.product_id} on {self.storefront_id}: {self.price_minor} {self.currency_id}"


class ProductImage(models.Model):
    """A photo, re-encoded without metadata. ``thumbnails`` maps a width to its storage name,
    filled by Celery (``marketplace.make_thumbnails``)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    file = models.CharField(max_length=255, help_text=_("Storage name of the re-encoded original"))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    thumbnails = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    alt = models.CharField(max_length=200, blank=True)
    # SHA-256 of the file as received (a catalogue import adds the same photo only once).
    source_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.file

    def name_for(self, width: int | None = None) -> str:
        """The storage name of the smallest thumbnail at least ``width`` wide (the original until
        the thumbnails exist)."""
        if width:
            sizes = sorted(int(w) for w in self.thumbnails)
            for size in sizes:
                if size >= width:
                    return self.thumbnails[str(size)]
        return self.file

    def url(self, width: int | None = None) -> str:
        return reverse("product-image-file", args=[self.name_for(width)])

    @property
    def url_small(self) -> str:
        return self.url(160)

    @property
    def url_card(self) -> str:
        return self.url(320)

    @property
    def url_large(self) -> str:
        return self.url(800)


class ProductSearch(models.Model):
    """What search reads, apart from the product row so that listing pages stay narrow.

    ``text`` holds three lines of tokens (see marketplace.search): titles, descriptions, and the
    storefronts the product is listed on. The SQLite fallback searches ``text``; PostgreSQL
    searches ``vector`` (GIN index marketplace_productsearch_gin) built from it."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True, related_name="search")
    text = models.TextField(blank=True)
    vector = SearchVectorField(null=True, blank=True)

    def __str__(self):
        return f"search of {self.product_id}"


class SearchTerm(models.Model):
    """A Latin or Cyrillic word found in some product: the lexicon that typo correction searches
    by trigram similarity (index marketplace_searchterm_trgm, PostgreSQL only)."""

    word = models.CharField(max_length=64, primary_key=True)

    def __str__(self):
        return self.word


# --- catalogue imports ------------------------------------------------------------------------


class CatalogueImport(models.Model):
    """A seller's CSV or XLSX file of products (and a ZIP of their photos), imported by Celery in
    chunks. Counters move in the transaction of each chunk, so they always say what is written."""

    Status = ImportStatus
    machine = CATALOGUE_IMPORT_MACHINE

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    company = models.ForeignKey("core.Company", on_delete=models.CASCADE, related_name="catalogue_imports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    file = models.CharField(max_length=255, help_text=_("Storage name of the uploaded file"))
    file_name = models.CharField(max_length=255, blank=True, help_text=_("The file's name on the seller's computer"))
    images = models.CharField(max_length=255, blank=True, help_text=_("Storage name of the ZIP of photos"))
    format = models.CharField(max_length=8, choices=Format.choices)
    # CSV only: the delimiter found in the header line.
    delimiter = models.CharField(max_length=1, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    products_created = models.PositiveIntegerField(default=0)
    products_updated = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why a whole file failed, in every language of the site ({"en": ..., "ru": ...}).
    error = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["company", "-id"], name="catalogue_import_company_idx")]

    def __str__(self):
        return f"import {self.pk} of {self.company_id} ({self.status})"


class CatalogueImportChunk(models.Model):
    """A slice of an import's rows (parsed once, when the import starts), written in one transaction.
    ``done`` is set in that same transaction: a chunk task that runs twice, or after a worker died
    in the middle of it, writes its rows once."""

    catalogue_import = models.ForeignKey(CatalogueImport, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    rows = models.JSONField(default=list, help_text=_("[[row number, {column: value}], ...]; emptied once written"))
    done = models.BooleanField(default=False)
    rows_done = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Where the chunk's time went (seconds): checking the cells, the photos, the transaction.
    seconds_check = models.FloatField(default=0)
    seconds_photos = models.FloatField(default=0)
    seconds_write = models.FloatField(default=0)

    class Meta:
        ordering = ["catalogue_import", "index"]
        constraints = [models.UniqueConstraint(fields=["catalogue_import", "index"], name="import_chunk_once")]

    def __str__(self):
        return f"chunk {self.index} of import {self.catalogue_import_id}"


class CatalogueImportError(models.Model):
    """One refused cell (or row) of an import. ``message`` holds the text in every language of the
    site, so the report reads in the language of whoever opens it."""

    catalogue_import = models.ForeignKey(CatalogueImport, on_delete=models.CASCADE, related_name="errors")
    row = models.PositiveIntegerField(help_text=_("Row number in the file, the header being row 1"))
    column = models.CharField(max_length=64, blank=True)
    message = models.JSONField(default=dict)

    class Meta:
        ordering = ["catalogue_import", "row", "id"]
        indexes = [models.Index(fields=["catalogue_import", "row"], name="import_error_row_idx")]

    def __str__(self):
        return f"import {self.catalogue_import_id} row {self.row} {self.column}"
