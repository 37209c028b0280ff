"""Staff views of the ledger: read-only (entries are never edited or deleted), payouts moved only by
their state machine's transitions."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from core.money import Money

from . import services
from .models import Account, Entry, EscrowHold, FxRate, Payout, ProviderEvent, Transaction


def _money(minor, currency):
    return Money(minor, currency).format("en")


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "label", "kind", "currency", "balance", "allow_negative"]
    list_filter = ["kind", "currency", "owner_kind"]
    search_fields = ["=owner_id"]

    @admin.display(description=_("Balance"), ordering="balance_minor")
    def balance(self, obj):
        return _money(obj.balance_minor, obj.currency_id)


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ["account", "currency", "amount_minor", "balance_after"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "reference", "actor_label", "created_at"]
    list_filter = ["kind"]
    search_fields = ["reference", "=idempotency_key"]
    date_hierarchy = "created_at"
    inlines = [EntryInline]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "txn", "account", "amount", "balance_after", "created_at"]
    list_filter = ["currency"]
    list_select_related = ["txn", "account"]
    search_fields = ["txn__reference"]

    @admin.display(description=_("Amount"), ordering="amount_minor")
    def amount(self, obj):
        return _money(obj.amount_minor, obj.currency)


@admin.register(EscrowHold)
class EscrowHoldAdmin(ReadOnlyAdmin):
    list_display = ["reference", "payer_kind", "payer_id", "currency", "amount_minor", "refunded_minor",
                    "released_minor", "commission_minor", "status"]
    list_filter = ["status", "currency"]
    search_fields = ["reference"]


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ["provider", "event_id", "event_type", "txn", "received_at"]
    list_filter = ["provider", "event_type"]
    search_fields = ["event_id"]


@admin.register(FxRate)
class FxRateAdmin(ReadOnlyAdmin):
    list_display = ["currency", "usd_per_unit", "as_of", "provider", "status", "loaded_at"]
    list_filter = ["provider", "currency"]
    actions = ["refresh"]

    @admin.action(description=_("Reload rates from the configured provider"))
    def refresh(self, request, queryset):
        try:
            count = services.fx_rates_load(actor=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, _("%(count)s rates loaded.") % {"count": count})


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner_kind", "owner_id", "amount", "status", "gateway", "gateway_reference", "created_at"]
    list_filter = ["status", "currency", "gateway"]
    actions = ["process", "mark_paid", "mark_failed"]

    @admin.display(description=_("Amount"), ordering="amount_minor")
    def amount(self, obj):
        return _money(obj.amount_minor, obj.currency)

    def _each(self, request, queryset, step):
        done = 0
        for payout in queryset.order_by("pk"):
            try:
                step(payout)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{payout.pk}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, _("%(count)s payouts updated.") % {"count": done})

    @admin.action(description=_("Send through the payout gateway now"))
    def process(self, request, queryset):
        self._each(request, queryset, lambda p: services.payout_process(payout_id=p.pk, actor=request.user))

    @admin.action(description=_("Mark as paid (confirmed by the bank)"))
    def mark_paid(self, request, queryset):
        self._each(request, queryset, lambda p: services.payout_complete(payout=p, actor=request.user))

    @admin.action(description=_("Mark as failed and return the money"))
    def mark_failed(self, request, queryset):
        self._each(request, queryset, lambda p: services.payout_fail(payout=p, reason="Marked failed by staff", actor=request.user))
