from rest_framework import serializers

from core.api.fields import MoneyField
from core.texts import render_all

from ..labels import localized_breakdown
from ..models import Declaration, DeclarationDocument
from ..states import BROKER_ACTIONS


class QuoteLineSerializer(serializers.Serializer):
    # Loose types on purpose: the service checks each value and names the field (lines.0.weight_kg).
    hs_code = serializers.CharField(max_length=20)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    weight_kg = serializers.CharField(required=False, allow_null=True, default=None)
    origin_country = serializers.CharField(max_length=2, required=False, allow_null=True, default=None)


class QuoteRequestSerializer(serializers.Serializer):
    origin_country = serializers.CharField(max_length=8)
    destination_country = serializers.CharField(max_length=8)
    currency = serializers.CharField(max_length=8)
    date = serializers.DateField(required=False, allow_null=True, default=None)
    buyer = serializers.IntegerField(required=False, allow_null=True, default=None)
    shipping = MoneyField()
    insurance = MoneyField()
    channel = serializers.CharField(required=False, default="courier")
    source_warehouse = serializers.CharField(required=False, allow_null=True, default=None)
    lines = QuoteLineSerializer(many=True, allow_empty=True)


class MoneyOut(serializers.Serializer):
    amount = serializers.CharField()
    currency = serializers.CharField()


class BreakdownSerializer(serializers.Serializer):
    kind = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    base = MoneyOut()
    rate = serializers.CharField(allow_null=True, help_text="Percent")
    amount = MoneyOut()
    rule = serializers.CharField()
    source = serializers.CharField()


class FxSerializer(serializers.Serializer):
    # "from" is a Python keyword: declared through the field map.
    to = serializers.CharField()
    rate = serializers.CharField()
    as_of = serializers.DateField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField()
        return fields


class QuoteResponseSerializer(serializers.Serializer):
    regime = serializers.CharField()
    date = serializers.DateField()
    customs_value = MoneyOut()
    duty = MoneyOut()
    vat = MoneyOut()
    excise = MoneyOut()
    fees = MoneyOut()
    taxes_total = MoneyOut()
    landed_cost = MoneyOut()
    landed_cost_storefront = MoneyOut()
    fx = FxSerializer(many=True)
    breakdown = BreakdownSerializer(many=True)
    allowance = serializers.JSONField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())


class LineOut(serializers.Serializer):
    position = serializers.IntegerField()
    hs_code = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    weight_kg = serializers.DecimalField(max_digits=12, decimal_places=3, coerce_to_string=True)
    value = serializers.SerializerMethodField()
    origin_country = serializers.CharField()

    def get_value(self, obj) -> dict:
        from core.money import Money

        return Money(obj.value_minor, obj.currency).to_api()


class DocumentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = DeclarationDocument
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at", "url"]

    def get_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("customs:document", args=[obj.declaration_id, obj.pk])


class DeclarationSerializer(serializers.ModelSerializer):
    customs_value = serializers.SerializerMethodField()
    duty = serializers.SerializerMethodField()
    vat = serializers.SerializerMethodField()
    excise = serializers.SerializerMethodField()
    fees = serializers.SerializerMethodField()
    duties = serializers.SerializerMethodField()

    class Meta:
        model = Declaration
        fields = ["id", "reference", "kind", "status", "channel", "regime", "importer_country", "registration_number",
                  "customs_value", "duty", "vat", "excise", "fees", "duties", "declared_weight_kg", "recorded_weight_kg",
                  "rejection_reason", "created_at", "updated_at"]

    def _m(self, minor, obj) -> dict:
        from core.money import Money

        return Money(minor, obj.currency).to_api()

    def get_customs_value(self, obj) -> dict:
        return self._m(obj.customs_value_minor, obj)

    def get_duty(self, obj) -> dict:
        return self._m(obj.duty_minor, obj)

    def get_vat(self, obj) -> dict:
        return self._m(obj.vat_minor, obj)

    def get_excise(self, obj) -> dict:
        return self._m(obj.excise_minor, obj)

    def get_fees(self, obj) -> dict:
        return self._m(obj.fees_minor, obj)

    def get_duties(self, obj) -> dict:
        return self._m(obj.total_minor, obj)


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    status = serializers.CharField()
    from_status = serializers.CharField()
    actor = serializers.CharField()
    note = serializers.CharField()


class DeclarationDetailSerializer(DeclarationSerializer):
    lines = LineOut(many=True)
    documents = DocumentSerializer(many=True)
    breakdown = serializers.JSONField()
    warnings = serializers.JSONField()
    events = serializers.SerializerMethodField()

    class Meta(DeclarationSerializer.Meta):
        fields = [*DeclarationSerializer.Meta.fields, "lines", "documents", "breakdown", "warnings", "events"]

    def get_events(self, obj) -> list[dict]:
        from ..selectors import timeline

        return EventSerializer(timeline(obj), many=True).data

    def to_representation(self, instance):
        # Rules and warnings are stored as messages: shown in the caller's language.
        data = super().to_representation(instance)
        data["breakdown"] = localized_breakdown(instance.breakdown, labels=False)
        data["warnings"] = render_all(instance.warnings)
        return data


class ActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(BROKER_ACTIONS))
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.CharField()
    file = serializers.FileField(required=False, allow_null=True, default=None)
