"""Counts shown beside the navigation links: orders to fulfil and returns to decide (seller),
returns to receive (operator). Two small queries, only for those roles."""

from core.access import OPERATOR, SELLER, company_ids, roles_of

from .models import Order, Return
from .states import OrderStatus, ReturnStatus

TO_FULFIL = (OrderStatus.PAID, OrderStatus.AT_CUSTOMS, OrderStatus.CLEARED, OrderStatus.PICKING, OrderStatus.PACKED)


def counts(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = roles_of(user)
    out = {}
    if SELLER in roles:
        companies = company_ids(user)
        out["desk_orders_count"] = Order.objects.filter(company_id__in=companies, status__in=TO_FULFIL).count()
        out["desk_returns_count"] = Return.objects.filter(order__company_id__in=companies,
                                                          status=ReturnStatus.REQUESTED).count()
    if OPERATOR in roles:
        from warehouses.access import operated_codes

        out["returns_to_receive_count"] = Return.objects.filter(
            order__source_warehouse__in=operated_codes(user), status=ReturnStatus.IN_TRANSIT).count()
    return out
