"""Returns after delivery: the buyer asks, the seller decides (silence approves after three days),
the buyer ships back, the warehouse receives line by line, Celery refunds.

Money, on a delivered order (the escrow is gone: it paid the seller and the commission):

* the buyer gets the returned goods, their share of the shipping when the fault is the seller's,
  and their share of the taxes where the regime refunds them (China's CBEC, asked within 30 days of
  customs release; EAEU and Uzbek parcel payments are not refunded); a change of mind pays the
  return shipping out of the refund;
* the seller's wallet pays it back, the platform reverses its commission on it, and the customs
  duty account gives back the refunded tax; a seller whose wallet cannot cover its part owes the
  platform, and the debt is taken from its next payouts (payments keeps the receivable);
* one balanced ledger transaction per return.

Stock: restocked units go back into the warehouse they left, into bond where customs refunded the
tax (CBEC), released otherwise; damaged units are booked in and written off.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import BUYER, SELLER, SYSTEM_ACTOR, company_ids, has_role, is_staff
from core.errors import DomainError, ErrorCode, field_error
from core.money import Money
from core.states import check, history, record_creation, transition
from core.tasks import enqueue
from customs import services as customs
from payments import services as payments
from payments.interface import Owner
from warehouses import services as warehouses
from warehouses.access import may_operate

from .models import Order, OrderLine, Return, ReturnLine, ReturnWindow
from .services import shipping_for
from .states import OrderStatus, ReturnReason, ReturnStatus

S = ReturnStatus
# China's CBEC: a return asked for within this many days of customs release is not taxed.
CBEC_TAX_REFUND_DAYS = 30
MAX_COMMENT = 1000


def _delivered_at(order: Order):
    return order.closed_at if order.status == OrderStatus.DELIVERED else None


def _released_at(order: Order):
    """When customs released the parcel (the order's ``cleared`` event)."""
    for event in history(order):
        if event.to_state == OrderStatus.CLEARED:
            return event.at
    return None


def _window(order: Order, reason: str) -> ReturnWindow | None:
    kind = ReturnWindow.Kind.CHANGED_MIND if reason == ReturnReason.CHANGED_MIND else ReturnWindow.Kind.FAULT
    return ReturnWindow.objects.filter(country_id=order.ship_to_country_id, kind=kind).first()


def _check_window(order: Order, reason: str, lines: list[tuple[OrderLine, int]], now) -> None:
    delivered = _delivered_at(order)
    if delivered is None:
        raise DomainError(ErrorCode.ILLEGAL_TRANSITION, _("Only a delivered order can be returned."),
                          {"order": [_("The order is not delivered yet: cancel it or wait for delivery.")]})
    window = _window(order, reason)
    days = window.days if window else 30
    if now > delivered + timedelta(days=days):
        raise DomainError(ErrorCode.RETURN_WINDOW_CLOSED,
                          _("The time to return this order for this reason ended %(days)s days after delivery.") % {"days": days},
                          {"reason": [_("Return window closed on %(date)s.") % {"date": (delivered + timedelta(days=days)).date()}]})
    excluded = {slug.strip() for slug in (window.excluded_categories if window else "").split(",") if slug.strip()}
    for i, (line, _qty) in enumerate(lines):
        if excluded and line.product.category.slug in excluded:
            raise DomainError(ErrorCode.RETURN_WINDOW_CLOSED, _("This product cannot be returned for this reason."),
                              {f"lines.{i}.line": [_("Fresh or perishable goods are returned only when faulty.")]})


def _lines(order: Order, raw) -> list[tuple[OrderLine, int]]:
    """The order lines and quantities asked for: each line of this order, at most what was delivered
    less what other returns (not refused) already take back."""
    if not isinstance(raw, list | tuple) or not raw:
        raise field_error("lines", _("Choose at least one line to return."))
    by_id = {line.pk: line for line in order.lines.select_related("product__category")}
    taken = dict(ReturnLine.objects.filter(line__order=order).exclude(ret__status=S.REFUSED)
                 .values("line_id").annotate(n=Sum("quantity")).values_list("line_id", "n"))
    errors, chosen, seen = {}, [], set()
    for i, item in enumerate(raw):
        line_id = item.get("line") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        line = by_id.get(line_id) if isinstance(line_id, int) and not isinstance(line_id, bool) else None
        if line is None or line_id in seen:
            errors[f"lines.{i}.line"] = [_("Not a line of this order.") if line is None else _("This line is listed twice.")]
            continue
        seen.add(line_id)
        left = line.quantity - taken.get(line.pk, 0)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= left:
            errors[f"lines.{i}.quantity"] = [_("Enter a quantity from 1 to %(n)s.") % {"n": left} if left else
                                             _("Every unit of this line is already being returned.")]
            continue
        chosen.append((line, quantity))
    if errors:
        raise DomainError(ErrorCode.VALIDATION, _("Check the lines to return."), errors)
    return chosen


def _share(part: int, whole: int, amount: int) -> int:
    """``amount × part / whole``, rounded half up to the minor unit."""
    if not whole:
        return 0
    return int((Decimal(amount) * part / whole).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def refund_quote(order: Order, lines: list[tuple[OrderLine, int]], reason: str, *, asked_at) -> dict:
    """What the buyer gets back and who pays what, in minor units of the order's currency."""
    goods = sum(line.unit_price_minor * qty for line, qty in lines)
    fault = reason != ReturnReason.CHANGED_MIND
    shipping_share = _share(goods, order.goods_minor, order.shipping_minor) if fault else 0
    released = _released_at(order)
    cbec = order.regime.startswith("cn_cbec") and released is not None
    taxes = (_share(goods, order.goods_minor, order.taxes_minor)
             if cbec and asked_at <= released + timedelta(days=CBEC_TAX_REFUND_DAYS) else 0)
    weight = sum(line.gross_weight_g * qty for line, qty in lines)
    return_shipping = shipping_for(order.storefront, weight).minor
    return {"goods": goods, "shipping_share": shipping_share, "taxes": taxes, "return_shipping": return_shipping}


def _check_buyer(ret_or_order, actor):
    order = ret_or_order.order if isinstance(ret_or_order, Return) else ret_or_order
    if actor is SYSTEM_ACTOR or is_staff(actor):
        return
    if getattr(actor, "pk", None) != order.buyer_id:
        raise DomainError(ErrorCode.NOT_FOUND, _("Order not found."))


def _check_seller(ret: Return, actor):
    if actor is SYSTEM_ACTOR or is_staff(actor):
        return
    if not has_role(actor, SELLER) or ret.order.company_id not in company_ids(actor):
        raise DomainError(ErrorCode.NOT_FOUND, _("Return not found."))


def _check_operator(ret: Return, actor):
    if not may_operate(actor, ret.order.source_warehouse):
        raise DomainError(ErrorCode.NOT_FOUND, _("Return not found."))


def _locked(ret: Return | int) -> Return:
    pk = ret.pk if isinstance(ret, Return) else ret
    found = Return.objects.select_for_update().select_related("order", "order__storefront").filter(pk=pk).first()
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, _("Return not found."))
    return found


# --- the buyer asks ---------------------------------------------------------------------------------


def return_request(*, order: Order, lines, reason: str, comment: str = "", actor) -> Return:
    """Ask to return delivered units. 409 ``return_window_closed`` past the window; 400 naming
    ``lines.<i>.quantity`` for more than was delivered; 404 for another buyer's order."""
    _check_buyer(order, actor)
    if actor is not SYSTEM_ACTOR and not is_staff(actor) and not has_role(actor, BUYER):
        raise DomainError(ErrorCode.NOT_FOUND, _("Order not found."))
    if reason not in ReturnReason.values:
        raise field_error("reason", _("Choose a reason: %(reasons)s.") % {"reasons": ", ".join(ReturnReason.values)})
    comment = str(comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise field_error("comment", _("At most %(n)s characters.") % {"n": MAX_COMMENT})
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("storefront").get(pk=order.pk)
        chosen = _lines(order, lines)
        _check_window(order, reason, chosen, now)
        quote = refund_quote(order, chosen, reason, asked_at=now)
        ret = Return.objects.create(
            order=order, reason=reason, comment=comment, created_at=now, goods_minor=quote["goods"],
            shipping_share_minor=quote["shipping_share"], taxes_minor=quote["taxes"],
            return_shipping_minor=quote["return_shipping"])
        ReturnLine.objects.bulk_create([ReturnLine(ret=ret, line=line, quantity=qty) for line, qty in chosen])
        record_creation(ret, actor=actor, at=now, payload={"lines": [[line.pk, qty] for line, qty in chosen],
                                                           "estimate": order.money(ret.estimate_minor).to_api()})
    return ret


# --- the seller decides ------------------------------------------------------------------------------


def return_approve(*, ret: Return, actor) -> Return:
    with transaction.atomic():
        ret = _locked(ret)
        _check_seller(ret, actor)
        transition(ret, S.APPROVED, actor=actor)
    return ret


def return_refuse(*, ret: Return, reason: str, actor) -> Return:
    reason = str(reason or "").strip()
    if not reason:
        raise field_error("reason", _("Tell the buyer why the return is refused."))
    with transaction.atomic():
        ret = _locked(ret)
        _check_seller(ret, actor)
        transition(ret, S.REFUSED, actor=actor, reason=reason[:500], extra_updates={"refusal_reason": reason[:500]})
    return ret


def returns_auto_approve(*, now=None) -> int:
    """Celery beat: returns the seller left unanswered for the set time are approved by the system."""
    now = now or timezone.now()
    due = now - timedelta(seconds=settings.ORDERS_RETURN_AUTO_APPROVE_AFTER)
    moved = 0
    for pk in Return.objects.filter(status=S.REQUESTED, created_at__lte=due).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            ret = Return.objects.select_for_update(skip_locked=True).filter(pk=pk, status=S.REQUESTED).first()
            if ret is not None:
                transition(ret, S.APPROVED, actor=SYSTEM_ACTOR, reason="no answer from the seller within 3 days")
                moved += 1
    return moved


# --- the buyer ships back, the warehouse receives -------------------------------------------------


def return_ship(*, ret: Return, tracking_number: str, actor) -> Return:
    tracking_number = str(tracking_number or "").strip()
    if not tracking_number or len(tracking_number) > 64:
        raise field_error("tracking_number", _("Give the tracking number of the parcel you sent back (up to 64 characters)."))
    with transaction.atomic():
        ret = _locked(ret)
        _check_buyer(ret, actor)
        transition(ret, S.IN_TRANSIT, actor=actor, extra_updates={"tracking_number": tracking_number})
    return ret


CONDITIONS = ("restock", "damaged")


def return_receive(*, ret: Return, lines, actor) -> Return:
    """The operator records each returned unit as ``restock`` or ``damaged``; every unit of every
    line must be accounted for. Then Celery refunds."""
    with transaction.atomic():
        ret = _locked(ret)
        _check_operator(ret, actor)
        check(ret, S.RECEIVED, actor=actor)
        rows = {row.line_id: row for row in ret.lines.select_related("line")}
        counts: dict[int, dict[str, int]] = {pk: {"restock": 0, "damaged": 0} for pk in rows}
        errors = {}
        for i, item in enumerate(lines if isinstance(lines, list | tuple) else []):
            line_id = item.get("line") if isinstance(item, dict) else None
            quantity = item.get("quantity") if isinstance(item, dict) else None
            condition = item.get("condition") if isinstance(item, dict) else None
            if line_id not in rows:
                errors[f"lines.{i}.line"] = [_("Not a line of this return.")]
            elif condition not in CONDITIONS:
                errors[f"lines.{i}.condition"] = [_("Either restock or damaged.")]
            elif isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                errors[f"lines.{i}.quantity"] = [_("Enter a whole number of units.")]
            else:
                counts[line_id][condition] += quantity
        for line_id, row in rows.items():
            if not errors and sum(counts[line_id].values()) != row.quantity:
                errors[f"lines.{line_id}"] = [_("Account for all %(n)s units of “%(title)s”.") % {"n": row.quantity,
                                                                                                  "title": row.line.title}]
        if errors:
            raise DomainError(ErrorCode.VALIDATION, _("Check the received units."), errors)
        into_bond = ret.taxes_minor > 0  # customs refunded the tax: the units go back under bond
        warehouses.stock_receive_return(
            reference=ret.reference, warehouse=ret.order.source_warehouse,
            lines=[(rows[pk].line.sku_id, c["restock"], c["damaged"]) for pk, c in counts.items()],
            bond_status="bonded" if into_bond else "released", actor=actor)
        for pk, c in counts.items():
            ReturnLine.objects.filter(pk=rows[pk].pk).update(restocked=c["restock"], damaged=c["damaged"])
        transition(ret, S.RECEIVED, actor=actor, place=ret.order.source_warehouse,
                   payload={"lines": {str(pk): c for pk, c in counts.items()}})
        from .tasks import refund_return

        enqueue(refund_return, ret.pk)
    return ret


# --- Celery refunds -------------------------------------------------------------------------------------


def return_refund(*, return_id: int) -> bool:
    """Refund a received return (one balanced transaction), restore the buyer's CBEC allowance when
    the tax came back. Idempotent: a return already refunded is left alone."""
    with transaction.atomic():
        ret = Return.objects.select_for_update().select_related("order").filter(pk=return_id, status=S.RECEIVED).first()
        if ret is None:
            return False
        order = ret.order
        currency = order.currency_id
        fault = ret.reason != ReturnReason.CHANGED_MIND
        rate = Decimal(str(settings.MARKETPLACE_ORDER_COMMISSION_RATE))
        seller_goods = ret.goods_minor + ret.shipping_share_minor
        commission = Money(seller_goods, currency).times(rate).minor
        txn = payments.return_refund(
            reference=ret.reference, order_reference=order.reference, buyer=Owner.user(order.buyer), seller=Owner.company(order.company_id),
            seller_part=Money(seller_goods + (ret.return_shipping_minor if fault else 0), currency),
            commission_part=Money(commission, currency), taxes_part=Money(ret.taxes_minor, currency),
            fee_part=Money(ret.return_shipping_minor, currency), actor=SYSTEM_ACTOR)
        if ret.taxes_minor:
            customs.allowance_restore(reference=order.reference, amount=Money(ret.goods_minor + ret.shipping_share_minor
                                                                              + ret.taxes_minor, currency),
                                      actor=SYSTEM_ACTOR)
        refund = ret.estimate_minor
        transition(ret, S.REFUNDED, actor=SYSTEM_ACTOR, payload={"refund": Money(refund, currency).to_api(),
                                                                 "txn": txn.id},
                   extra_updates={"refund_minor": refund, "refunded_at": timezone.now()})
    return True


def returns_visible(user, qs=None):
    """The returns ``user`` may see: a buyer's own, a seller's company's, an operator's warehouses'."""
    from core.access import OPERATOR, roles_of
    from warehouses.access import operated_codes

    qs = Return.objects.select_related("order", "order__storefront") if qs is None else qs
    if is_staff(user):
        return qs
    roles = roles_of(user)
    from django.db.models import Q

    visible = Q(order__buyer_id=user.pk) if BUYER in roles else Q(pk__in=[])
    if SELLER in roles:
        visible |= Q(order__company_id__in=company_ids(user))
    if OPERATOR in roles:
        visible |= Q(order__source_warehouse__in=operated_codes(user))
    return qs.filter(visible)


