"""Who sees which warehouse rows: operators their warehouses, sellers their own SKUs, staff all."""

from django.db.models import Q

from core.access import OPERATOR, SELLER, STAFF, SYSTEM_ACTOR, company_ids, roles_of, scope

from .models import Consignment, Discrepancy, Fulfilment, Movement, Sku, StockLevel, Transfer, Warehouse


def operated_codes(user) -> frozenset[str]:
    """Codes of the warehouses ``user`` operates (cached on the user object for the request)."""
    if user is None or user is SYSTEM_ACTOR or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_karavan_warehouses", None)
    if cached is None:
        cached = frozenset(Warehouse.objects.filter(operators=user).values_list("code", flat=True))
        user._karavan_warehouses = cached
    return cached


def may_operate(user, warehouse_code: str) -> bool:
    if user is SYSTEM_ACTOR:
        return True
    roles = roles_of(user)
    if STAFF in roles:  # core.access.is_staff: superusers hold the staff role too
        return True
    return OPERATOR in roles and warehouse_code in operated_codes(user)


def _is_staff(user) -> bool:
    return STAFF in roles_of(user)


@scope(Warehouse)
def warehouses_visible(user, qs):
    # Everyone signed in may list the warehouses (sellers ship consignments to them); what is
    # inside them (stock, movements) is scoped below.
    return qs


@scope(Sku)
def skus_visible(user, qs):
    if _is_staff(user):
        return qs
    rule = Q(pk__in=[])
    if SELLER in roles_of(user):
        rule |= Q(company_id__in=company_ids(user))
    if OPERATOR in roles_of(user):
        rule |= Q(pk__in=StockLevel.objects.filter(warehouse_id__in=operated_codes(user)).values("sku_id"))
    return qs.filter(rule)


def _stock_rule(user, warehouse_field: str, company_field: str) -> Q | None:
    if _is_staff(user):
        return None
    roles = roles_of(user)
    rule = Q(pk__in=[])
    if OPERATOR in roles:
        rule |= Q(**{f"{warehouse_field}__in": operated_codes(user)})
    if SELLER in roles:
        rule |= Q(**{f"{company_field}__in": company_ids(user)})
    return rule


def _scoped(user, qs, warehouse_field, company_field):
    rule = _stock_rule(user, warehouse_field, company_field)
    return qs if rule is None else qs.filter(rule)


@scope(StockLevel)
def levels_visible(user, qs):
    return _scoped(user, qs, "warehouse_id", "sku__company_id")


@scope(Movement)
def movements_visible(user, qs):
    return _scoped(user, qs, "warehouse_id", "sku__company_id")


@scope(Consignment)
def consignments_visible(user, qs):
    return _scoped(user, qs, "warehouse_id", "company_id")


@scope(Discrepancy)
def discrepancies_visible(user, qs):
    return _scoped(user, qs, "consignment__warehouse_id", "consignment__company_id")


@scope(Transfer)
def transfers_visible(user, qs):
    if _is_staff(user):
        return qs
    codes = operated_codes(user) if OPERATOR in roles_of(user) else frozenset()
    return qs.filter(Q(source_id__in=codes) | Q(destination_id__in=codes))


@scope(Fulfilment)
def fulfilments_visible(user, qs):
    if _is_staff(user):
        return qs
    codes = operated_codes(user) if OPERATOR in roles_of(user) else frozenset()
    return qs.filter(warehouse_id__in=codes)
