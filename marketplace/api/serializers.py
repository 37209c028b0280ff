from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import MoneyField
from core.money import Money

from ..models import CONTENT_LANGUAGES, Product, ProductImage, Storefront


class StorefrontSerializer(serializers.ModelSerializer):
    currency = serializers.CharField(source="currency_id")
    seller_country = serializers.CharField(source="seller_country_id")
    markets = serializers.SerializerMethodField()
    warehouses = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()

    class Meta:
        model = Storefront
        fields = ["code", "kind", "name", "name_en", "name_ru", "name_zh", "flag", "seller_country", "currency",
                  "default_language", "markets", "warehouses"]

    def get_markets(self, obj) -> list[str]:
        return [c.iso2 for c in obj.markets.all()]

    def get_warehouses(self, obj) -> list[str]:
        return [w.code for w in obj.warehouses.all()]

    def get_name(self, obj) -> str:
        request = self.context.get("request")
        return obj.name(getattr(request, "LANGUAGE_CODE", "en") if request else "en")


def image_url(name: str | None) -> str | None:
    return reverse("product-image-file", args=[name]) if name else None


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnails = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "url", "width", "height", "position", "alt", "thumbnails"]

    def get_url(self, obj) -> str:
        return image_url(obj.file)

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_thumbnails(self, obj) -> dict:
        return {width: image_url(name) for width, name in sorted(obj.thumbnails.items(), key=lambda kv: int(kv[0]))}


class CompanyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    country = serializers.CharField(source="country_id")
    verified = serializers.SerializerMethodField()

    def get_verified(self, obj) -> bool:
        return obj.verification == "verified"


class CategoryBriefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, obj) -> str:
        return obj.name(self.context.get("language", "en"))


class ProductListSerializer(serializers.ModelSerializer):
    """A product as a list shows it: the title in the asker's language (falling back to the
    storefront's, then English), the price on the storefront asked for."""

    sku = serializers.CharField(source="sku_code")
    title = serializers.CharField()
    language = serializers.SerializerMethodField()
    company = CompanyBriefSerializer()
    category = CategoryBriefSerializer()
    origin_country = serializers.CharField(source="origin_country_id")
    price = MoneyField(allow_null=True)
    converted_price = MoneyField(source="converted", allow_null=True)
    in_stock = serializers.BooleanField(allow_null=True, default=None)
    image = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "sku", "status", "title", "language", "category", "company", "origin_country", "hs_code",
                  "price", "converted_price", "in_stock", "image"]

    def get_language(self, obj) -> str | None:
        return obj.text.language if obj.text else None

    def get_image(self, obj) -> str | None:
        return image_url(obj.cover.name_for(320)) if obj.cover_id else None


class TextSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")


class PriceSerializer(serializers.Serializer):
    storefront = serializers.CharField()
    price = MoneyField()
    visible = serializers.BooleanField(read_only=True)


class ProductDetailSerializer(ProductListSerializer):
    description = serializers.SerializerMethodField()
    translations = serializers.SerializerMethodField()
    prices = serializers.SerializerMethodField()
    images = ImageSerializer(many=True)
    dimensions_mm = serializers.SerializerMethodField()

    class Meta(ProductListSerializer.Meta):
        fields = [*ProductListSerializer.Meta.fields, "description", "translations", "prices", "images",
                  "net_weight_g", "gross_weight_g", "dimensions_mm", "attributes", "created_at", "updated_at"]

    def get_description(self, obj) -> str:
        return obj.text.description if obj.text else ""

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "object", "properties": {
        "title": {"type": "string"}, "description": {"type": "string"}}}})
    def get_translations(self, obj) -> dict:
        return {t.language: {"title": t.title, "description": t.description} for t in obj.texts}

    @extend_schema_field(PriceSerializer(many=True))
    def get_prices(self, obj) -> list:
        return [{"storefront": o.storefront_id, "price": Money(o.price_minor, o.currency_id).to_api(),
                 "visible": o.is_visible} for o in obj.offers]

    @extend_schema_field({"type": "array", "items": {"type": "integer"}, "nullable": True})
    def get_dimensions_mm(self, obj):
        sides = [obj.length_mm, obj.width_mm, obj.height_mm]
        return sides if all(sides) else None


class ProductWriteSerializer(serializers.Serializer):
    """What a seller sends. Rules (HS code, currencies, storefront admission) are checked by the
    services; this only checks the shape."""

    company = serializers.IntegerField(required=False, help_text="Needed only when you belong to several companies.")
    sku = serializers.CharField(max_length=64)
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    category = serializers.CharField()
    hs_code = serializers.CharField(max_length=16)
    origin_country = serializers.CharField(max_length=2)
    net_weight_g = serializers.IntegerField(min_value=1)
    gross_weight_g = serializers.IntegerField(min_value=1, required=False)
    length_mm = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    width_mm = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    height_mm = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    attributes = serializers.DictField(required=False)
    translations = serializers.DictField(child=TextSerializer(allow_null=True))
    prices = serializers.DictField(child=MoneyField(allow_null=True), required=False,
                                   help_text='Storefront code -> {"amount", "currency"}; null removes it.')

    def validate_translations(self, value):
        unknown = set(value) - set(CONTENT_LANGUAGES)
        if unknown:
            raise serializers.ValidationError(f"Unknown language(s): {', '.join(sorted(unknown))}.")
        return value


class ImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP")
    alt = serializers.CharField(required=False, allow_blank=True, max_length=200)


# --- catalogue imports ------------------------------------------------------------------------


class ImportProgressSerializer(serializers.Serializer):
    percent = serializers.IntegerField(help_text="Rows read, in percent of rows_total")
    rate = serializers.FloatField(allow_null=True, help_text="Rows per second so far")
    seconds_left = serializers.IntegerField(allow_null=True, help_text="Estimated, at the rate so far")


class ImportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    company = serializers.IntegerField(source="company_id")
    file_name = serializers.CharField()
    format = serializers.CharField()
    with_images = serializers.SerializerMethodField()
    rows_total = serializers.IntegerField(help_text="Known once the import has started (at once for a CSV)")
    rows_done = serializers.IntegerField(help_text="Rows written (created, updated or unchanged)")
    rows_failed = serializers.IntegerField(help_text="Rows refused: see errors")
    products_created = serializers.IntegerField()
    products_updated = serializers.IntegerField()
    progress = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField(help_text="Why the whole file failed, in the reader's language")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    errors_url = serializers.SerializerMethodField()

    def get_with_images(self, obj) -> bool:
        return bool(obj.images)

    @extend_schema_field(ImportProgressSerializer)
    def get_progress(self, obj) -> dict:
        from .. import selectors

        p = selectors.import_progress(obj)
        return {"percent": p["percent"], "rate": p["rate"], "seconds_left": p["seconds_left"]}

    def get_error(self, obj) -> str:
        from django.utils.translation import get_language

        from .. import selectors

        return selectors.import_message(obj.error, get_language()) if obj.error else ""

    def get_errors_url(self, obj) -> str:
        return reverse("import-errors", args=[obj.pk])


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8, comma or semicolon) or XLSX; columns as in the template")
    images = serializers.FileField(required=False, help_text="ZIP of the photos named in the image column")
    company = serializers.IntegerField(required=False, help_text="Needed only when you belong to several companies.")


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row of the file, the header being row 1")
    column = serializers.CharField()
    message = serializers.CharField()
