from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import DomainError
from core.money import Money, currencies


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "amount": {"type": "string", "example": "1234.50", "pattern": r"^-?\d+(\.\d+)?$"},
            "currency": {"type": "string", "example": "KZT", "enum": sorted(currencies())},
        },
        "required": ["amount", "currency"],
    }
)
class MoneyField(serializers.Field):
    """``{"amount": "1234.50", "currency": "KZT"}`` <-> :class:`core.money.Money`."""

    def __init__(self, *, min_minor: int | None = None, **kwargs):
        self.min_minor = min_minor
        super().__init__(**kwargs)

    def to_representation(self, value: Money):
        return value.to_api()

    def to_internal_value(self, data):
        try:
            money = Money.from_api(data, self.field_name or "amount")
        except DomainError as exc:
            raise serializers.ValidationError(exc.message) from None
        if self.min_minor is not None and money.minor < self.min_minor:
            raise serializers.ValidationError("Must be positive." if self.min_minor > 0 else "Must not be negative.")
        return money
