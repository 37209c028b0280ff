from rest_framework import serializers

from ..models import Storefront


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
