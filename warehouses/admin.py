from django.contrib import admin, messages

from core.admin import ReadOnlyAdmin, ScopedAdmin
from core.errors import DomainError

from . import services
from .customs_link import reference_of
from .models import Consignment, ConsignmentLine, Discrepancy, Movement, Sku, StockLevel, Transfer, Warehouse


@admin.register(Warehouse)
class WarehouseAdmin(ScopedAdmin):
    list_display = ["code", "name", "kind", "country", "priority", "is_active"]
    list_filter = ["kind", "is_active"]
    filter_horizontal = ["operators"]


@admin.register(Sku)
class SkuAdmin(ScopedAdmin):
    list_display = ["code", "name", "company", "hs_code", "weight_g", "low_stock_threshold"]
    search_fields = ["code", "name", "company__name"]
    list_select_related = ["company"]
    raw_id_fields = ["company"]


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ["warehouse", "sku", "bond_status", "on_hand", "reserved", "location", "aged_since", "updated_at"]
    list_filter = ["warehouse", "bond_status"]
    search_fields = ["sku__code", "sku__name"]
    list_select_related = ["sku"]
    show_full_result_count = False


@admin.register(Movement)
class MovementAdmin(ReadOnlyAdmin):
    list_display = ["at", "warehouse", "sku", "bond_status", "kind", "quantity", "on_hand_delta", "reserved_delta",
                    "reason", "reference", "actor_label"]
    list_filter = ["warehouse", "kind", "bond_status"]
    search_fields = ["reference", "sku__code"]
    date_hierarchy = "at"
    list_select_related = ["sku"]
    show_full_result_count = False


class ConsignmentLineInline(admin.TabularInline):
    model = ConsignmentLine
    extra = 0
    readonly_fields = ["sku", "expected_qty", "counted_qty"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DiscrepancyInline(admin.TabularInline):
    model = Discrepancy
    extra = 0
    readonly_fields = ["sku", "kind", "expected_qty", "counted_qty", "note", "created_at"]
    exclude = ["line"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _fire(modeladmin, request, queryset, label, call):
    done = 0
    for obj in queryset:
        try:
            call(obj)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done}", messages.SUCCESS)


@admin.register(Consignment)
class ConsignmentAdmin(ScopedAdmin):
    list_display = ["number", "company", "warehouse", "status", "customs_status", "created_at", "received_at"]
    list_filter = ["status", "warehouse"]
    search_fields = ["number", "company__name"]
    readonly_fields = ["number", "status", "legs", "submitted_at", "cleared_at", "received_at", "received_by",
                       "customs_declaration_id", "customs_status", "created_by"]
    raw_id_fields = ["company"]
    inlines = [ConsignmentLineInline, DiscrepancyInline]
    actions = ["submit", "advance", "refresh_customs", "cancel"]

    @admin.action(description="Submit (hand to the carrier)")
    def submit(self, request, queryset):
        _fire(self, request, queryset, "submitted", lambda c: services.consignment_submit(consignment=c, actor=request.user))

    @admin.action(description="Advance one transit step (in transit → at border → customs)")
    def advance(self, request, queryset):
        from core.access import SYSTEM_ACTOR

        _fire(self, request, queryset, "advanced",
              lambda c: services.consignment_advance(consignment=c, expected=c.status, actor=SYSTEM_ACTOR))

    @admin.action(description="Read the customs status again from customs (customs alone clears)")
    def refresh_customs(self, request, queryset):
        _fire(self, request, queryset, "read from customs",
              lambda c: services.consignment_customs_changed(reference=reference_of(c)))

    @admin.action(description="Cancel")
    def cancel(self, request, queryset):
        _fire(self, request, queryset, "cancelled", lambda c: services.consignment_cancel(consignment=c, actor=request.user))


@admin.register(Transfer)
class TransferAdmin(ScopedAdmin):
    list_display = ["number", "source", "destination", "status", "created_at", "closed_at"]
    list_filter = ["status", "source", "destination"]
    readonly_fields = ["number", "source", "destination", "status", "created_by", "closed_at"]
    actions = ["receive", "cancel"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Receive at the destination")
    def receive(self, request, queryset):
        _fire(self, request, queryset, "received", lambda t: services.transfer_receive(transfer=t, actor=request.user))

    @admin.action(description="Cancel (units back to the source)")
    def cancel(self, request, queryset):
        _fire(self, request, queryset, "cancelled", lambda t: services.transfer_cancel(transfer=t, actor=request.user))
