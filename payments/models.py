"""The ledger: accounts, transactions of balanced entries, escrow holds, FX rates, payouts.

Invariants the database enforces (see migrations 0002 and 0003 for the PostgreSQL triggers):
- an account that may not go negative (every wallet, escrow) never does (check constraint);
- per transaction and currency the entries sum to zero (a trigger when each INSERT statement ends);
- entries and transactions are never updated or deleted (trigger);
- one transaction per idempotency key, one provider event per (provider, event id) (unique keys).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .states import ESCROW_MACHINE, PAYOUT_MACHINE, PAYOUT_REQUEST_ROLES, EscrowStatus, PayoutStatus


class AccountKind(models.TextChoices):
    WALLET = "wallet", _("Wallet")
    ESCROW = "escrow", _("Escrow")
    FX = "fx", _("FX position")
    FX_SPREAD = "fx_spread", _("FX spread income")
    FX_ROUNDING = "fx_rounding", _("FX rounding remainders")
    COMMISSION = "commission", _("Commission income")
    PROVIDER_CLEARING = "provider_clearing", _("Payment provider clearing")
    PAYOUTS_PENDING = "payouts_pending", _("Payouts in flight")
    CUSTOMS_DUTY = "customs_duty", _("Customs duty collected")
    FEES = "fees", _("Fees collected")
    SHIPPING = "shipping", _("Shipping collected")
    # What the platform pays when customs assesses more than the landed cost it quoted (an expense).
    LANDED_COST_GUARANTEE = "landed_cost_guarantee", _("Landed-cost guarantee")
    # What sellers owe the platform (refunds their wallets could not cover): a debit balance.
    SELLER_RECEIVABLES = "seller_receivables", _("Owed by sellers")


# Platform accounts mirror money outside the platform (clearing) or a position (fx): they may go
# below zero. Wallets and escrow hold real money of someone and never may.
MAY_GO_NEGATIVE = {AccountKind.FX, AccountKind.PROVIDER_CLEARING, AccountKind.LANDED_COST_GUARANTEE,
                   AccountKind.SELLER_RECEIVABLES}


class Account(models.Model):
    owner_kind = models.CharField(max_length=8)  # user | company | platform
    owner_id = models.BigIntegerField()  # 0 for platform accounts
    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+", db_column="currency")
    # Kept equal to the sum of the account's entries by the same transaction that writes them.
    balance_minor = models.BigIntegerField(default=0)
    allow_negative = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner_kind", "owner_id", "kind", "currency"], name="account_key"),
            models.CheckConstraint(condition=Q(allow_negative=True) | Q(balance_minor__gte=0),
                                   name="account_balance_not_negative"),
        ]
        # The rules on the account's key (a known owner kind; only wallets owned) are a trigger on
        # INSERT and on an UPDATE of the key, which it refuses (migration 0012), not CHECK
        # constraints: PostgreSQL evaluates every CHECK at every UPDATE, so the two cost each booking
        # a twentieth of its time, on balances only.

    def __str__(self):
        return f"{self.label} {self.currency_id}"

    @property
    def label(self) -> str:
        if self.owner_kind == "platform":
            return self.kind
        return f"{self.owner_kind}:{self.owner_id}"


class TxnKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    TRANSFER = "transfer", _("Transfer")
    CONVERSION = "conversion", _("Conversion")
    ESCROW_HOLD = "escrow_hold", _("Paid into escrow")
    ESCROW_RELEASE = "escrow_release", _("Released from escrow")
    REFUND = "refund", _("Refund")
    COMMISSION = "commission", _("Commission")
    PAYOUT = "payout", _("Payout")
    PAYOUT_RETURN = "payout_return", _("Payout returned")
    DUTY = "duty", _("Customs duty")
    FEE = "fee", _("Fee")
    SHIPPING = "shipping", _("Shipping")


class Transaction(models.Model):
    kind = models.CharField(max_length=24, choices=TxnKind.choices)
    reference = models.CharField(max_length=128)  # what caused it, e.g. order:123
    idempotency_key = models.CharField(max_length=200)
    # A digest of the request, so that the same key with a different request is refused.
    fingerprint = models.CharField(max_length=64)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_index=False)
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    memo = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        # Every booking writes each of these indexes, so only those a reader uses: no LIKE
        # (varchar_pattern_ops) twins, which Django adds to unique and db_index text fields and
        # which no query here uses (the admin searches reference by icontains, the key by =), and
        # the actor's only where there is one (most bookings are Celery's), for deleting a user.
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="transaction_key")]
        indexes = [models.Index(fields=["reference"], name="transaction_reference_idx"),
                   models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="transaction_actor_idx")]

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.reference}"


class Entry(models.Model):
    """One leg of a transaction: ``amount_minor`` is added to the account (positive credits it).

    Append-only; designed to be partitioned by month on ``created_at``.
    """

    txn = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    # Indexed by entry_account_idx, which serves every lookup by account as well.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    currency = models.CharField(max_length=3)  # the account's, copied so the balance check needs no join
    amount_minor = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount_minor=0), name="entry_amount_not_zero")]
        # Statements read one account newest first: uses entry_account_idx.
        indexes = [models.Index(fields=["account", "-id"], name="entry_account_idx")]
        verbose_name_plural = _("entries")

    def __str__(self):
        return f"{self.account_id} {self.amount_minor:+d} {self.currency}"


class EscrowHold(models.Model):
    """Money a payer put into escrow for one reference (an order), until released or refunded.
    The status follows :data:`~payments.states.ESCROW_MACHINE`."""

    Status = EscrowStatus
    machine = ESCROW_MACHINE

    reference = models.CharField(max_length=128)
    payer_kind = models.CharField(max_length=8)
    payer_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    refunded_minor = models.BigIntegerField(default=0)
    released_minor = models.BigIntegerField(default=0)
    commission_minor = models.BigIntegerField(default=0)
    # Paid out of escrow to someone other than payer and payee while held (customs duties of the parcel).
    settled_minor = models.BigIntegerField(default=0)
    payee_kind = models.CharField(max_length=8, blank=True)
    payee_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD)
    # Not indexed: ledger transactions are never deleted, and no query looks a hold up by its own.
    hold_txn = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+", db_index=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Not unique=True, whose LIKE twin (varchar_pattern_ops) no query uses and every hold writes.
            models.UniqueConstraint(fields=["reference"], name="escrow_reference_once"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="escrow_amount_positive"),
            models.CheckConstraint(condition=Q(refunded_minor__gte=0, released_minor__gte=0, commission_minor__gte=0,
                                                 settled_minor__gte=0),
                                   name="escrow_parts_not_negative"),
            models.CheckConstraint(condition=Q(refunded_minor__lte=F("amount_minor") - F("released_minor") - F("settled_minor")),
                                   name="escrow_not_overdrawn"),
        ]
        indexes = [models.Index(fields=["payer_kind", "payer_id", "status"], name="escrow_payer_idx")]

    def __str__(self):
        return f"escrow {self.reference}"

    @property
    def open_minor(self) -> int:
        return self.amount_minor - self.refunded_minor - self.released_minor - self.settled_minor


class FxRate(models.Model):
    """How many US dollars one unit of a currency is worth, as published by ``source`` on ``as_of``.
    Cross rates are derived through USD."""

    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    usd_per_unit = models.DecimalField(max_digits=24, decimal_places=12)
    as_of = models.DateField()
    provider = models.CharField(max_length=32)
    source = models.TextField(blank=True)
    status = models.CharField(max_length=32, blank=True)  # verified / unverified, from the source
    loaded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["currency", "as_of", "provider"], name="fx_rate_once_per_day"),
            models.CheckConstraint(condition=Q(usd_per_unit__gt=0), name="fx_rate_positive"),
        ]
        indexes = [models.Index(fields=["currency", "-as_of", "-loaded_at"], name="fx_rate_lookup_idx")]
        ordering = ["currency", "-as_of"]

    def __str__(self):
        return f"{self.currency_id} {self.usd_per_unit} USD ({self.as_of})"


class ProviderEvent(models.Model):
    """A payment provider's webhook event, stored once: a replay of the same event id is refused."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    txn = models.ForeignKey(Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")]

    def __str__(self):
        return f"{self.provider}:{self.event_id}"


class Payout(models.Model):
    """A seller's money on its way to its bank. The status follows
    :data:`~payments.states.PAYOUT_MACHINE`."""

    Status = PayoutStatus
    machine = PAYOUT_MACHINE
    REQUEST_ROLES = PAYOUT_REQUEST_ROLES

    owner_kind = models.CharField(max_length=8)
    owner_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    gateway = models.CharField(max_length=32)
    gateway_reference = models.CharField(max_length=128, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payout_amount_positive")]
        indexes = [models.Index(fields=["owner_kind", "owner_id", "-id"], name="payout_owner_idx")]
        ordering = ["-id"]

    def __str__(self):
        return f"payout #{self.pk} {self.owner_kind}:{self.owner_id} {self.amount_minor} {self.currency}"

    @property
    def reference(self) -> str:
        return f"payout:{self.pk}"


class SellerDebt(models.Model):
    """What a seller owes the platform after a refund its wallet could not cover; taken from its
    next payouts (``settled_minor`` grows until it equals ``amount_minor``)."""

    owner_kind = models.CharField(max_length=8)
    owner_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    settled_minor = models.BigIntegerField(default=0)
    reference = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="seller_debt_positive"),
            models.CheckConstraint(condition=Q(settled_minor__gte=0, settled_minor__lte=F("amount_minor")),
                                   name="seller_debt_settled_within_amount"),
        ]
        indexes = [models.Index(fields=["owner_kind", "owner_id", "currency"], name="seller_debt_owner_idx")]

    def __str__(self):
        return f"{self.owner_kind}:{self.owner_id} owes {self.amount_minor - self.settled_minor} {self.currency}"

    @property
    def open_minor(self) -> int:
        return self.amount_minor - self.settled_minor
