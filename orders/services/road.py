"""After payment: the order follows its warehouse (picking, packed, shipped) and customs (the parcel's
declaration, released or refused), and ends delivered (escrow to the seller) or returned after a
refusal (stock back, the buyer refunded in full).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto
from core.access import SYSTEM_ACTOR
from core.errors import DomainError, field_error
from core.money import Money
from core.states import check, transition, transition_batch
from core.tasks import enqueue
from customs import selectors as customs_selectors
from customs import services as customs
from customs.interface import DeclarationLineInput, ParcelInput
from payments import services as payments
from payments.interface import Owner
from warehouses import services as warehouses

from ..models import Order
from ..states import BOND, BORDER
from ..states import OrderStatus as S
from ..tracking import parcels_schedule, place_of
from .checkout import DECLARATION_CALLBACK, FULFILMENT_CALLBACK, PLAIN_MOVES, _locked, order_id_of

log = logging.getLogger(__name__)


# --- after payment ------------------------------------------------------------------------------


FULFILMENT_STEPS = (S.PICKING, S.PACKED, S.SHIPPED)


def order_fulfilment_changed(*, reference: str, warehouse: str, status: str, tracking_numbers=()) -> Order | None:
    """The warehouse picked, packed or shipped the order (task ``orders.fulfilment_changed``).

    The order follows, at the warehouse: a step it missed (a callback lost or late) is recorded on
    the way, a step it already took changes nothing. Tracking numbers of several parcels (a
    reservation split over warehouses) are merged. Safe to run twice."""
    order_id = order_id_of(reference)
    if order_id is None or status not in FULFILMENT_STEPS:
        return None
    numbers = [str(n)[:64] for n in (tracking_numbers or []) if n]
    place = str(warehouse or "")[:32]
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            log.warning("fulfilment reported for unknown %s", reference)
            return None
        known = list(order.tracking_numbers or [])
        merged = known + [n for n in numbers if n not in known]
        target = FULFILMENT_STEPS.index(status)
        current = FULFILMENT_STEPS.index(order.status) if order.status in FULFILMENT_STEPS else -1
        ready = order.status == (S.CLEARED if order.road == BOND else S.PAID)
        if current < 0 and not ready:
            if order.status in (S.PLACED, S.PAID, S.AT_CUSTOMS):
                log.warning("fulfilment %s reported for %s in status %s", status, reference, order.status)
            elif merged != known:
                Order.objects.filter(pk=order.pk).update(tracking_numbers=merged)
            return order
        for step in FULFILMENT_STEPS[current + 1:target + 1]:
            # The numbers reported with any step are kept with it (not only at shipment): a copy of
            # the same callback then finds nothing left to write.
            extra = {"tracking_numbers": merged, **({"shipped_at": timezone.now()} if step == S.SHIPPED else {})}
            transition(order, step, actor=SYSTEM_ACTOR, place=place,
                       payload={"warehouse": warehouse, "tracking_numbers": numbers} if step == S.SHIPPED else {},
                       extra_updates=extra)
            if step == S.SHIPPED:
                parcels_schedule(order_ids=[order.pk], status=S.SHIPPED)
        if target <= current and merged != known:
            Order.objects.filter(pk=order.pk).update(tracking_numbers=merged)
            order.tracking_numbers = merged
    return order


def order_ship_callback(*, reference: str, warehouse: str, tracking_numbers: list) -> Order | None:
    """The callback of fulfilments requested before the order followed every step."""
    return order_fulfilment_changed(reference=reference, warehouse=warehouse, status=S.SHIPPED,
                                    tracking_numbers=tracking_numbers)


def _declaration_lines(order: Order) -> list[DeclarationLineInput]:
    return [DeclarationLineInput(hs_code=line.hs_code, description=line.title, quantity=line.quantity,
                                 weight_kg=Decimal(line.gross_weight_g * line.quantity) / 1000,
                                 value=Money(line.line_total_minor, order.currency_id), origin_country=line.origin_country_id)
            for line in order.lines.order_by("position")]


def invoice_pdf(order: Order) -> bytes:
    """The seller's commercial invoice for the parcel, as customs asks for it on a yellow channel."""
    from ..invoice import render

    return render(order)


def _file(order: Order) -> tuple[int, bool]:
    """The parcel's declaration, filed (a draft with the seller's invoice) or found: its id, and
    whether it is a draft to submit. Customs answers a second filing with the first declaration."""
    from django.core.files.base import ContentFile

    quoted = order.landed_cost.get("date")
    lines = _declaration_lines(order)
    info = customs.declaration_create(
        kind="parcel", reference=order.reference, importer_country=order.ship_to_country_id, lines=lines,
        declared_weight_kg=sum((line.weight_kg for line in lines), Decimal(0)),
        callback_task=DECLARATION_CALLBACK, actor=SYSTEM_ACTOR, buyer_id=order.buyer_id,
        date=timezone.datetime.fromisoformat(quoted).date() if quoted else None,
        parcel=ParcelInput(regime=order.regime, prepaid=order.taxes, freight=order.shipping,
                           recipient_name=order.ship_to_name,
                           recipient_id=crypto.decrypt(order.ship_to_id_encrypted) if order.ship_to_id_encrypted else ""),
    )
    if info.status != "draft":
        return info.id, False
    invoice = ContentFile(invoice_pdf(order), name=f"invoice-order-{order.pk}.pdf")
    customs.document_upload(declaration_id=info.id, kind="invoice", file=invoice, actor=SYSTEM_ACTOR)
    return info.id, True


def _declarable(order: Order) -> bool:
    return (order.road == BOND and order.status == S.PAID) or (order.road == BORDER and order.status == S.AT_CUSTOMS)


def order_declare_batch(*, order_ids) -> list[int]:
    """File the parcel declarations of many orders and submit them together, in one transaction:
    the orders are locked (those another worker holds are skipped: it is declaring them), each
    declaration is drawn up from its order (regime, lines, prepaid duties, recipient, the seller's
    invoice; a refused filing is logged and leaves the others), the drafts are submitted in one
    set-based move (one registration task for all) and the orders sold from bond move to
    ``at_customs`` at their warehouse. Only our own rows are locked: customs' authority is asked
    later, by its tasks, with no transaction open. Returns the orders declared, now or before.
    Idempotent: customs answers a second filing with the first declaration."""
    with transaction.atomic():
        locked = [o for o in Order.objects.select_for_update(skip_locked=True).filter(
            pk__in=sorted(set(order_ids)), road__in=[BOND, BORDER], status__in=[S.PAID, S.AT_CUSTOMS]).order_by("pk")
            if _declarable(o)]
        filed: dict[int, tuple[int, bool]] = {}
        for order in locked:
            try:
                with transaction.atomic():
                    filed[order.pk] = _file(order)
            except DomainError as exc:
                log.warning("declaration of %s refused: %s", order.reference, exc.message)
        if not filed:
            return []
        customs.declaration_submit_batch(declaration_ids=[pk for pk, draft in filed.values() if draft], actor=SYSTEM_ACTOR)
        bond = [o for o in locked if o.pk in filed and o.road == BOND]
        transition_batch(Order, [o.pk for o in bond], S.PAID, S.AT_CUSTOMS, actor=SYSTEM_ACTOR, events={
            o.pk: {"place": o.source_warehouse[:32], "payload": {"declaration": filed[o.pk][0], "regime": o.regime}}
            for o in bond})
    return sorted(filed)


def parcels_to_declare(*, limit: int) -> list[int]:
    """Paid orders sold from bond, oldest first: declared as soon as they are paid, so the task of
    one payment files those paid with it too (one batch). Uses index order_due_idx (status first)."""
    return list(Order.objects.filter(road=BOND, status=S.PAID).order_by("pk").values_list("pk", flat=True)[:limit])


def order_declare(*, order_id: int) -> bool:
    """File the parcel's declaration with customs and submit it (:func:`order_declare_batch` for
    one order). Sold from bond the order moves to ``at_customs`` at the warehouse."""
    return bool(order_declare_batch(order_ids=[order_id]))


def order_customs_changed(*, reference: str, status: str) -> Order | None:
    """Customs decided on the parcel (task ``orders.declaration_changed``): released, the order is
    cleared (from bond: the units leave bond and the warehouse may now fulfil); rejected, it becomes
    ``customs_rejected`` and the return follows. Other steps of the declaration change nothing here.
    Safe to run twice."""
    order_id = order_id_of(reference)
    if order_id is None or status not in ("released", "rejected"):
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != S.AT_CUSTOMS:
            return order
        info = customs_selectors.declaration_for(reference)
        place = place_of(order, S.CLEARED)
        if status == "released":
            transition(order, S.CLEARED, actor=SYSTEM_ACTOR, place=place,
                       payload={"declaration": info.id if info else None, "channel": info.channel if info else ""})
            if order.road == BOND:
                warehouses.stock_release_from_bond(reference=order.reference, actor=SYSTEM_ACTOR)
                warehouses.fulfilment_request(reference=order.reference, callback_task=FULFILMENT_CALLBACK, actor=SYSTEM_ACTOR)
            else:
                parcels_schedule(order_ids=[order.pk], status=S.CLEARED)
        else:
            transition(order, S.CUSTOMS_REJECTED, actor=SYSTEM_ACTOR, place=place,
                       reason=(info.rejection_reason if info else "")[:500],
                       payload={"declaration": info.id if info else None})
            from ..tasks import return_rejected

            enqueue(return_rejected, order.pk)
    return order


def order_advance(*, order: Order, to: str, actor, reason: str = "", place: str = "") -> Order:
    """A step without money or stock attached, fired by the operator, the broker or staff as the
    machine allows (the admin's corrections)."""
    if to not in PLAIN_MOVES:
        raise field_error("status", _("This step has its own action."))
    with transaction.atomic():
        order = _locked(order)
        transition(order, to, actor=actor, reason=str(reason or "")[:500], place=str(place or "")[:32])
    return order


def order_deliver(*, order: Order, actor, place: str = "") -> Order:
    """The buyer has the parcel: release the escrow to the seller company minus the commission."""
    with transaction.atomic():
        order = _locked(order)
        check(order, S.DELIVERED, actor=actor)
        rate = Decimal(str(settings.MARKETPLACE_ORDER_COMMISSION_RATE))
        txn = payments.release_escrow(reference=order.reference, payee=Owner.company(order.company_id),
                                      commission_rate=rate, actor=actor)
        # What escrow still held: the total less the duties customs took on release.
        released = sum((money for _account, money in txn.entries if money.minor > 0), Money.zero(order.currency_id))
        commission = released.times(rate)
        transition(order, S.DELIVERED, actor=actor, place=str(place or "")[:32],
                   payload={"paid_to_seller": (released - commission).to_api(), "commission": commission.to_api(),
                            "release_txn": txn.id},
                   extra_updates={"closed_at": timezone.now()})
    return order


def order_return(*, order: Order, actor, reason: str = "") -> Order:
    """Customs refused the parcel: its units go back to stock (still in bond where they never left
    it; booked back in from the crossing otherwise) and the buyer gets back everything held
    (goods, shipping, duties: policy, the buyer is not charged for a refusal), allowance included."""
    with transaction.atomic():
        order = _locked(order)
        check(order, S.RETURNED, actor=actor)
        if order.road == BOND:
            warehouses.stock_release(reference=order.reference, actor=actor)
        else:
            warehouses.stock_return_shipment(reference=order.reference, actor=actor)
        refund = payments.refund(reference=order.reference, actor=actor)
        customs.allowance_release(reference=order.reference, actor=actor)
        transition(order, S.RETURNED, actor=actor, reason=str(reason or "")[:500], payload={"refund_txn": refund.id},
                   extra_updates={"closed_at": timezone.now()})
    return order
