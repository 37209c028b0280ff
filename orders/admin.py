"""Staff tools for orders: every transition is an admin action that calls the service, so refunds,
releases and events happen exactly as they do through the API."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.access import visible
from core.errors import DomainError, ErrorCode

from . import services as order_services
from .models import Order, OrderLine
from .states import OrderStatus


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ["position", "product", "title", "quantity", "unit_price_minor", "line_total_minor"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _order_action(to, label):
    """An admin action per transition; each calls the service, so refunds, releases and events
    happen exactly as they do through the API."""

    def run(modeladmin, request, queryset):
        done = 0
        for order in queryset.order_by("pk"):
            try:
                if to == OrderStatus.CANCELLED:
                    order_services.order_cancel(order=order, actor=request.user, reason="staff action")
                elif to == OrderStatus.DELIVERED:
                    order_services.order_deliver(order=order, actor=request.user)
                elif to == OrderStatus.RETURNED:
                    order_services.order_return(order=order, actor=request.user, reason="staff action")
                elif to == OrderStatus.EXPIRED:
                    if not order_services.order_expire(order_id=order.pk):
                        raise DomainError(ErrorCode.ILLEGAL_TRANSITION, _("Only a placed order past its time expires."))
                else:
                    order_services.order_advance(order=order, to=to, actor=request.user, reason="staff action")
                done += 1
            except DomainError as exc:
                modeladmin.message_user(request, f"{order}: {exc.message}", messages.WARNING)
        modeladmin.message_user(request, _("%(n)d orders updated.") % {"n": done})

    run.__name__ = f"order_to_{to}"
    run.short_description = label
    return run


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "storefront", "buyer", "company", "total_minor", "currency", "placed_at", "expires_at"]
    list_filter = ["status", "storefront"]
    search_fields = ["=id", "buyer__username", "company__name", "ship_to_name"]
    list_select_related = ["storefront", "buyer", "company", "currency"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline]
    actions = [
        _order_action(OrderStatus.CANCELLED, _("Cancel (release stock, refund)")),
        _order_action(OrderStatus.EXPIRED, _("Expire (unpaid past its time)")),
        _order_action(OrderStatus.PICKING, _("Mark picking")),
        _order_action(OrderStatus.PACKED, _("Mark packed")),
        _order_action(OrderStatus.IN_TRANSIT, _("Mark in transit")),
        _order_action(OrderStatus.AT_CUSTOMS, _("Mark at customs")),
        _order_action(OrderStatus.CLEARED, _("Mark cleared by customs")),
        _order_action(OrderStatus.CUSTOMS_REJECTED, _("Mark rejected by customs")),
        _order_action(OrderStatus.RETURNED, _("Mark returned (refund)")),
        _order_action(OrderStatus.DELIVERED, _("Mark delivered (pay the seller)")),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Every field: an order changes through its actions only.
        return [f.name for f in Order._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return visible(request.user, super().get_queryset(request))
