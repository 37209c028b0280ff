from django.db.models import Q

from core.access import STAFF, company_ids, has_role, scope

from .models import Order, OrderLine


@scope(Order)
def orders_visible(user, qs):
    """A buyer sees their own orders; a seller the orders of its companies (read only); staff all."""
    if has_role(user, STAFF):
        return qs
    return qs.filter(Q(buyer_id=user.pk) | Q(company_id__in=company_ids(user)))


@scope(OrderLine)
def order_lines_visible(user, qs):
    return qs.filter(order__in=orders_visible(user, Order.objects.all()))
