from rest_framework import serializers

from core.api.fields import MoneyField


class BalanceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    balance = MoneyField()
    held = MoneyField(help_text="In escrow for open orders.")
    available = MoneyField()
    pending_payouts = MoneyField()


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField(source="created_at")
    kind = serializers.CharField(source="txn.kind")
    reference = serializers.CharField(source="txn.reference")
    transaction = serializers.IntegerField(source="txn_id")
    amount = serializers.SerializerMethodField()
    balance_after = serializers.SerializerMethodField()

    def _money(self, minor, currency):
        from core.money import Money

        return Money(minor, currency).to_api()

    def get_amount(self, entry) -> dict:
        return self._money(entry.amount_minor, entry.currency)

    def get_balance_after(self, entry) -> dict:
        return self._money(entry.balance_after, entry.currency)


class ConvertRequestSerializer(serializers.Serializer):
    amount = MoneyField()
    to_currency = serializers.CharField(max_length=3)
    quote_only = serializers.BooleanField(default=False, help_text="Only quote; book nothing.")


class QuoteSerializer(serializers.Serializer):
    amount = serializers.JSONField()
    receive = serializers.JSONField()
    mid_rate = serializers.CharField()
    rate = serializers.CharField()
    spread = serializers.CharField()
    fee = serializers.JSONField()
    rounding = serializers.JSONField()
    as_of = serializers.DateField()
    source = serializers.CharField()


class ConvertResponseSerializer(serializers.Serializer):
    quote = QuoteSerializer()
    transaction = serializers.IntegerField(allow_null=True)


class FxRateSerializer(serializers.Serializer):
    # "from" is a Python keyword: declared below.
    to = serializers.CharField()
    rate = serializers.CharField()
    as_of = serializers.DateField()
    source = serializers.CharField()


FxRateSerializer._declared_fields["from"] = serializers.CharField()


class PayoutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    amount = serializers.SerializerMethodField()
    gateway_reference = serializers.CharField()
    failure_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_amount(self, payout) -> dict:
        from core.money import Money

        return Money(payout.amount_minor, payout.currency).to_api()


class PayoutRequestSerializer(serializers.Serializer):
    amount = MoneyField(min_minor=1)
