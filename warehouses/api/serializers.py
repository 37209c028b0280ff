from rest_framework import serializers

from core.api.fields import MoneyField

from ..models import BondStatus, Consignment, Discrepancy, Fulfilment, Movement, Parcel, StockLevel, Transfer, Warehouse
from ..services import MAX_QUANTITY, PARCEL_LIMITS


class WarehouseSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country_id")
    place = serializers.CharField(source="place_id")

    class Meta:
        model = Warehouse
        fields = ["code", "name", "kind", "country", "place", "timezone", "priority"]


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.IntegerField(source="sku_id")
    sku_code = serializers.CharField(source="sku.code")
    sku_name = serializers.CharField(source="sku.name")
    seller = serializers.CharField(source="sku.company.name")
    available = serializers.IntegerField()
    low_stock = serializers.SerializerMethodField()

    class Meta:
        model = StockLevel
        fields = ["id", "sku", "sku_code", "sku_name", "seller", "bond_status", "on_hand", "reserved", "available",
                  "location", "aged_since", "low_stock"]

    def get_low_stock(self, obj) -> bool:
        return obj.available <= obj.sku.low_stock_threshold


class MovementSerializer(serializers.ModelSerializer):
    sku = serializers.IntegerField(source="sku_id")
    sku_code = serializers.CharField(source="sku.code")
    warehouse = serializers.CharField(source="warehouse_id")

    class Meta:
        model = Movement
        fields = ["id", "at", "warehouse", "sku", "sku_code", "bond_status", "kind", "quantity", "on_hand_delta",
                  "reserved_delta", "reason", "note", "reference", "actor_label"]


Quantity = lambda **kw: serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, **kw)  # noqa: E731


class AdjustmentInput(serializers.Serializer):
    sku = serializers.IntegerField()
    bond_status = serializers.ChoiceField(choices=BondStatus.choices)
    quantity = serializers.IntegerField(min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY,
                                        help_text="Signed: positive adds units, negative removes them.")
    reason = serializers.ChoiceField(choices=Movement.Reason.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ConsignmentLineInput(serializers.Serializer):
    sku = serializers.IntegerField()
    quantity = Quantity()
    declared_value = MoneyField(min_minor=1, required=False, allow_null=True, default=None,
                                help_text="Customs value of the whole line; required before submitting.")


class ConsignmentInput(serializers.Serializer):
    company = serializers.IntegerField(required=False, help_text="Needed only when you belong to several companies.")
    warehouse = serializers.CharField(max_length=8)
    origin = serializers.CharField(max_length=32)
    border_crossing = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    lines = ConsignmentLineInput(many=True, allow_empty=False, max_length=1000)


class DiscrepancySerializer(serializers.ModelSerializer):
    sku = serializers.IntegerField(source="sku_id")
    difference = serializers.IntegerField()

    class Meta:
        model = Discrepancy
        fields = ["sku", "kind", "expected_qty", "counted_qty", "difference", "note", "created_at"]


class ConsignmentLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.IntegerField(source="sku_id")
    sku_code = serializers.CharField(source="sku.code")
    expected_qty = serializers.IntegerField()
    counted_qty = serializers.IntegerField(allow_null=True)
    declared_value = MoneyField(allow_null=True)


class EventSerializer(serializers.Serializer):
    status = serializers.CharField(source="to_state")
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    place = serializers.CharField()
    note = serializers.CharField(source="reason")


class ConsignmentSerializer(serializers.ModelSerializer):
    company = serializers.IntegerField(source="company_id")
    warehouse = serializers.CharField(source="warehouse_id")
    origin = serializers.CharField(source="origin_id")
    border_crossing = serializers.CharField(source="border_crossing_id", allow_null=True)
    lines = ConsignmentLineSerializer(many=True)
    discrepancies = DiscrepancySerializer(many=True)
    events = serializers.SerializerMethodField()

    class Meta:
        model = Consignment
        fields = ["id", "number", "status", "company", "warehouse", "origin", "border_crossing", "legs", "note",
                  "customs_status", "customs_declaration_id", "customs_note", "cleared_at", "submitted_at", "received_at", "created_at", "lines", "discrepancies",
                  "events"]

    def get_events(self, obj) -> list[dict]:
        """The consignment's road (its ``status`` machine); its customs clearance is ``customs_status``."""
        from core.states import history

        events = history(obj).filter(machine=obj.machine.name)
        return EventSerializer(events, many=True).data if self.context.get("detail") else []


class ReceiveLineInput(serializers.Serializer):
    line = serializers.IntegerField()
    counted = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReceiveInput(serializers.Serializer):
    lines = ReceiveLineInput(many=True, allow_empty=False)


class TransferLineInput(serializers.Serializer):
    sku = serializers.IntegerField()
    bond_status = serializers.ChoiceField(choices=BondStatus.choices)
    quantity = Quantity()


class TransferInput(serializers.Serializer):
    source = serializers.CharField(max_length=8)
    destination = serializers.CharField(max_length=8)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    lines = TransferLineInput(many=True, allow_empty=False, max_length=500)


class TransferLineSerializer(serializers.Serializer):
    sku = serializers.IntegerField(source="sku_id")
    bond_status = serializers.CharField()
    arrival_bond_status = serializers.CharField()
    quantity = serializers.IntegerField()


class TransferSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source_id")
    destination = serializers.CharField(source="destination_id")
    lines = TransferLineSerializer(many=True)

    class Meta:
        model = Transfer
        fields = ["id", "number", "status", "source", "destination", "note", "created_at", "closed_at", "lines"]


class PickRowSerializer(serializers.Serializer):
    location = serializers.CharField()
    sku = serializers.IntegerField(source="sku_id")
    sku_code = serializers.CharField()
    sku_name = serializers.CharField()
    bond_status = serializers.CharField()
    quantity = serializers.IntegerField()
    references = serializers.ListField(child=serializers.CharField())


class ParcelInput(serializers.Serializer):
    weight_g = serializers.IntegerField(min_value=1, max_value=PARCEL_LIMITS["weight_g"])
    length_mm = serializers.IntegerField(min_value=1, max_value=PARCEL_LIMITS["length_mm"])
    width_mm = serializers.IntegerField(min_value=1, max_value=PARCEL_LIMITS["width_mm"])
    height_mm = serializers.IntegerField(min_value=1, max_value=PARCEL_LIMITS["height_mm"])


class PackInput(serializers.Serializer):
    parcels = ParcelInput(many=True, allow_empty=False, max_length=50)


class ParcelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Parcel
        fields = ["id", "weight_g", "length_mm", "width_mm", "height_mm", "carrier", "tracking_number", "handed_over_at"]


class FulfilmentSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse_id")
    parcels = ParcelSerializer(many=True)
    events = serializers.SerializerMethodField()

    class Meta:
        model = Fulfilment
        fields = ["id", "reference", "warehouse", "status", "created_at", "shipped_at", "parcels", "events"]

    def get_events(self, obj) -> list[dict]:
        from core.states import history

        return EventSerializer(history(obj), many=True).data if self.context.get("detail") else []
