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
from core.tasks import enqueue_ids
from customs import selectors as customs_selectors
from customs import services as customs
from customs.interface import DeclarationLineInput, ParcelInput
from payments import services as payments
from payments.interface import Owner
from warehouses import selectors as warehouse_selectors
from warehouses import services as warehouses

from ..models import Order
from ..states import BOND, BORDER
from ..states import OrderStatus as S
from ..tracking import parcels_schedule, parcels_stuck, place_of
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


def orders_fulfilment_changed(*, events) -> list[int]:
    """Many warehouse steps at once (task ``orders.fulfilments_changed``, the batch form of
    ``orders.fulfilment_changed``): ``events`` are ``(reference, warehouse, status,
    tracking_numbers)``. As :func:`order_fulfilment_changed` does for one, each order follows its
    warehouse to the furthest step reported, recording on the way a step it missed (the callbacks
    of two steps may run side by side on two workers), its tracking numbers merged; here the
    orders are locked in one statement (waiting for a worker moving them), and those taking the
    same steps move together, one set-based move per step (:func:`core.states.transition_batch`),
    the shipped ones scheduled on the pipeline in one task. An event that moves nothing (an order
    not ready, or past that step already) goes through :func:`order_fulfilment_changed`. Returns
    the orders moved. Safe to run twice."""
    reported: dict[int, dict] = {}
    for reference, warehouse, status, numbers in events:
        order_id = order_id_of(reference)
        if order_id is None or status not in FULFILMENT_STEPS:
            continue
        seen = reported.setdefault(order_id, {"reference": reference, "events": []})
        seen["events"].append((str(warehouse or ""), status, [str(n)[:64] for n in (numbers or []) if n]))
    rest: list[tuple[str, str, str, list]] = []
    moved: list[int] = []
    with transaction.atomic():
        orders = {o["pk"]: o for o in Order.objects.select_for_update().filter(pk__in=sorted(reported)).order_by("pk")
                  .values("pk", "status", "road", "tracking_numbers")}
        groups: dict[tuple[str, str], list[int]] = {}
        plans: dict[int, dict] = {}
        for pk, seen in reported.items():
            order = orders.get(pk)
            if order is None:
                rest += [(seen["reference"], w, s, n) for w, s, n in seen["events"]]
                continue
            warehouse, status, numbers = max(seen["events"], key=lambda e: FULFILMENT_STEPS.index(e[1]))
            target = FULFILMENT_STEPS.index(status)
            current = FULFILMENT_STEPS.index(order["status"]) if order["status"] in FULFILMENT_STEPS else -1
            ready = order["status"] == (S.CLEARED if order["road"] == BOND else S.PAID)
            if target <= current or (current < 0 and not ready):
                rest += [(seen["reference"], w, s, n) for w, s, n in seen["events"]]  # nothing to move: one by one
                continue
            known = list(order["tracking_numbers"] or [])
            every = [n for _w, _s, numbers_ in seen["events"] for n in numbers_]
            merged = known + [n for n in dict.fromkeys(every) if n not in known]
            plans[pk] = {"place": warehouse[:32], "warehouse": warehouse, "numbers": numbers, "merged": merged,
                         "changed": merged != known}
            groups.setdefault((order["status"], status), []).append(pk)
        now = timezone.now()
        for (start, status), pks in sorted(groups.items()):
            source, ids = start, pks
            first = FULFILMENT_STEPS.index(start) + 1 if start in FULFILMENT_STEPS else 0
            for step in FULFILMENT_STEPS[first:FULFILMENT_STEPS.index(status) + 1]:
                ids = transition_batch(
                    Order, ids, source, step, actor=SYSTEM_ACTOR,
                    updates={pk: {"tracking_numbers": plans[pk]["merged"]} for pk in ids if plans[pk]["changed"]},
                    events={pk: {"place": plans[pk]["place"],
                                 "payload": {"warehouse": plans[pk]["warehouse"], "tracking_numbers": plans[pk]["numbers"]}
                                 if step == S.SHIPPED else {}} for pk in ids},
                    extra_updates={"shipped_at": now} if step == S.SHIPPED else None)
                source = step
            if status == S.SHIPPED:
                parcels_schedule(order_ids=ids, status=S.SHIPPED)
            moved += ids
    for reference, warehouse, status, numbers in rest:
        order_fulfilment_changed(reference=reference, warehouse=warehouse, status=status, tracking_numbers=numbers)
    return sorted(moved)


def order_ship_callback(*, reference: str, warehouse: str, tracking_numbers: list) -> Order | None:
    """The callback of fulfilments requested before the order followed every step."""
    return order_fulfilment_changed(reference=reference, warehouse=warehouse, status=S.SHIPPED,
                                    tracking_numbers=tracking_numbers)


def _lines_of(order: Order) -> list:
    """The order's lines by position (from the prefetch of a batch when there is one)."""
    return sorted(order.lines.all(), key=lambda line: line.position)


def _declaration_lines(order: Order) -> list[DeclarationLineInput]:
    return [DeclarationLineInput(hs_code=line.hs_code, description=line.title, quantity=line.quantity,
                                 weight_kg=Decimal(line.gross_weight_g * line.quantity) / 1000,
                                 value=Money(line.line_total_minor, order.currency_id), origin_country=line.origin_country_id)
            for line in _lines_of(order)]


def invoice_pdf(order: Order) -> bytes:
    """The seller's commercial invoice for the parcel, as customs asks for it on a yellow channel."""
    from ..invoice import render

    return render(order)


def _filing(order: Order) -> dict:
    """The parcel's declaration as customs files it (:func:`customs.services.declarations_create`):
    drawn up from the order (regime, lines, prepaid duties, recipient), with the seller's invoice
    attached when it is filed now. Customs answers a second filing with the first declaration."""
    from django.core.files.base import ContentFile

    quoted = order.landed_cost.get("date")
    lines = _declaration_lines(order)
    return {
        "kind": "parcel", "reference": order.reference, "importer_country": order.ship_to_country_id, "lines": lines,
        "declared_weight_kg": sum((line.weight_kg for line in lines), Decimal(0)),
        "callback_task": DECLARATION_CALLBACK, "buyer_id": order.buyer_id,
        "date": timezone.datetime.fromisoformat(quoted).date() if quoted else None,
        "parcel": ParcelInput(regime=order.regime, prepaid=order.taxes, freight=order.shipping, recipient_name=order.ship_to_name,
                              recipient_id=crypto.decrypt(order.ship_to_id_encrypted) if order.ship_to_id_encrypted else ""),
        "documents": [("invoice", ContentFile(invoice_pdf(order), name=f"invoice-order-{order.pk}.pdf"))],
    }


def _declarable(order: Order) -> bool:
    return (order.road == BOND and order.status == S.PAID) or (order.road == BORDER and order.status == S.AT_CUSTOMS)


def order_declare_batch(*, order_ids) -> list[int]:
    """File the parcel declarations of many orders and submit them together, in one transaction:
    the orders are locked (those another worker holds are skipped: it is declaring them), each
    declaration is drawn up from its order (regime, lines, prepaid duties, recipient, the seller's
    invoice) and customs files them together (:func:`customs.services.declarations_create`: the
    rule tables read once, one INSERT each for the declarations, their lines and the invoices; a
    refused filing is logged and leaves the others), the drafts are submitted in one set-based
    move (one registration task for all) and the orders sold from bond move to ``at_customs`` at
    their warehouse. Only our own rows are locked: customs' authority is asked later, by its
    tasks, with no transaction open. Returns the orders declared, now or before. Idempotent:
    customs answers a second filing with the first declaration."""
    with transaction.atomic():
        locked = [o for o in Order.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            pk__in=sorted(set(order_ids)), road__in=[BOND, BORDER], status__in=[S.PAID, S.AT_CUSTOMS])
            .select_related("company").prefetch_related("lines").order_by("pk")
            if _declarable(o)]
        if not locked:
            return []
        answers = customs.declarations_create(filings=[_filing(o) for o in locked], actor=SYSTEM_ACTOR)
        filed: dict[int, tuple[int, bool]] = {}
        for order in locked:
            answer = answers.get(order.reference)
            if isinstance(answer, DomainError) or answer is None:
                log.warning("declaration of %s refused: %s", order.reference, getattr(answer, "message", "no answer"))
                continue
            filed[order.pk] = (answer.id, answer.status == "draft")
        if not filed:
            return []
        customs.declaration_submit_batch(declaration_ids=[pk for pk, draft in filed.values() if draft], actor=SYSTEM_ACTOR)
        bond = [o for o in locked if o.pk in filed and o.road == BOND]
        transition_batch(Order, [o.pk for o in bond], S.PAID, S.AT_CUSTOMS, actor=SYSTEM_ACTOR, events={
            o.pk: {"place": o.source_warehouse[:32], "payload": {"declaration": filed[o.pk][0], "regime": o.regime}}
            for o in bond})
    return sorted(filed)


def parcels_to_declare(*, limit: int, paid_before=None) -> list[int]:
    """Paid orders sold from bond, oldest first: declared as soon as they are paid, so the task of
    one payment files those paid with it too (one batch); ``paid_before``: only those paid before
    then (the sweep). Uses index order_due_idx (status first)."""
    pending = Order.objects.filter(road=BOND, status=S.PAID)
    if paid_before is not None:
        pending = pending.filter(paid_at__lt=paid_before)
    return list(pending.order_by("pk").values_list("pk", flat=True)[:limit])


def parcels_declare_pending(*, order_ids=(), batch: int, max_batches: int = 10, paid_before=None) -> tuple[list[int], bool]:
    """File the declarations of ``order_ids`` and of every other paid order sold from bond not
    declared yet (:func:`parcels_to_declare`), ``batch`` orders per transaction
    (:func:`order_declare_batch`), at most ``max_batches`` of them. Returns the orders declared and
    whether some may be left (the last batch was full): the caller sends another task then.

    The task of the payments (``orders.declare_paid_parcels``) runs this after clearing its
    "pending" marker, so an order paid after the read below sends a task of its own. Orders another
    worker is filing are skipped (locked); one left behind by a filing that failed is filed by the
    next task or by the sweep (``orders.declare_sweep``)."""
    declared: list[int] = []
    wanted = sorted({int(pk) for pk in order_ids})
    for _round in range(max_batches):
        first, wanted = wanted[:batch], wanted[batch:]
        pending = parcels_to_declare(limit=batch, paid_before=paid_before) if len(first) < batch else []
        ids = sorted((set(first) | set(pending)) - set(declared))
        if not ids:
            return declared, False
        done = order_declare_batch(order_ids=ids)
        declared += done
        if not wanted and (len(pending) < batch or not done):
            return declared, False
    return declared, True


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
            from ..tasks import return_rejected_batch

            enqueue_ids(return_rejected_batch, [order.pk])
    return order


def orders_customs_changed(*, changes) -> list[int]:
    """Customs' decisions on many parcels at once (task ``orders.declarations_changed``, the batch
    form of ``orders.declaration_changed``): ``changes`` are ``(reference, status)``; only
    ``released`` and ``rejected`` matter, as in :func:`order_customs_changed`. In one transaction
    the orders still ``at_customs`` (locked) move set-based per target and road
    (:func:`core.states.transition_batch`), each event with its place, declaration and channel as
    the single step writes them; sold from bond, their units leave bond and their fulfilments are
    requested for the whole batch (:mod:`warehouses.services.batches`); across a border the
    pipeline takes them on in one task; a refusal sends the return. Returns the orders moved. Safe
    to run twice."""
    wanted: dict[int, str] = {}
    for reference, status in changes:
        order_id = order_id_of(reference)
        if order_id is not None and status in ("released", "rejected"):
            wanted[order_id] = status
    if not wanted:
        return []
    moved: list[int] = []
    with transaction.atomic():
        # Locked in primary-key order, waiting for another worker holding one (as one by one: a
        # decision skipped here would be lost).
        # Only the columns the moves read (not the landed cost's JSON, decoded per row).
        orders = list(Order.objects.select_for_update().filter(pk__in=sorted(wanted), status=S.AT_CUSTOMS)
                      .only("id", "status", "road", "source_warehouse", "ship_to_country", "ship_to_city").order_by("pk"))
        if not orders:
            return []
        infos = customs_selectors.declarations_for([o.reference for o in orders])
        groups: dict[tuple[str, str], list[Order]] = {}
        for order in orders:
            target = S.CLEARED if wanted[order.pk] == "released" else S.CUSTOMS_REJECTED
            groups.setdefault((target, order.road), []).append(order)
        for (target, road), group in sorted(groups.items()):
            events = {}
            for order in group:
                info = infos.get(order.reference)
                events[order.pk] = {"place": place_of(order, S.CLEARED)}
                if target == S.CLEARED:
                    events[order.pk]["payload"] = {"declaration": info.id if info else None, "channel": info.channel if info else ""}
                else:
                    events[order.pk]["payload"] = {"declaration": info.id if info else None}
                    events[order.pk]["reason"] = (info.rejection_reason if info else "")[:500]
            done = transition_batch(Order, list(events), S.AT_CUSTOMS, target, actor=SYSTEM_ACTOR, events=events)
            moved += done
            by_pk = {o.pk: o for o in group}
            if target == S.CUSTOMS_REJECTED:
                from ..tasks import return_rejected_batch

                enqueue_ids(return_rejected_batch, done)
            elif road == BOND and done:
                references = [by_pk[pk].reference for pk in done]
                warehouses.stock_release_from_bond_batch(references=references, actor=SYSTEM_ACTOR)
                warehouses.fulfilment_request_batch(references=references, callback_task=FULFILMENT_CALLBACK, actor=SYSTEM_ACTOR)
            else:
                parcels_schedule(order_ids=done, status=S.CLEARED)
    return moved


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


def orders_return_rejected(*, order_ids=None, refused_for: float | None = None, limit: int = 500) -> list[int]:
    """Return the orders customs refused (:func:`order_return`), each in its own transaction so that
    one order's trouble holds up none of the others: ``order_ids`` (those still ``customs_rejected``;
    the rest are skipped), or with ``refused_for`` (seconds) up to ``limit`` orders refused longer
    ago than that and not returned yet (the sweep: their task was lost). Returns the orders returned."""
    if order_ids is None:
        order_ids = parcels_stuck(status=S.CUSTOMS_REJECTED, limit=limit, margin=refused_for or 0)
    returned = []
    for order in Order.objects.filter(pk__in=list(order_ids), status=S.CUSTOMS_REJECTED).order_by("pk")[:limit]:
        try:
            order_return(order=order, actor=SYSTEM_ACTOR, reason="customs refused the parcel")
        except DomainError as exc:  # moved on meanwhile (returned by staff): nothing left to do
            log.info("order %s not returned: %s", order.pk, exc)
            continue
        returned.append(order.pk)
    return returned


def _waiting(status: str, waited: float, page: int, pages: int):
    """Pages of the ids of orders in ``status`` for more than ``waited`` seconds, ``page`` a page, at
    most ``pages``: a sweep looking for the few whose callback was lost among many still waiting
    (customs and warehouses take hours) reads past the first page."""
    after = 0
    for _page in range(pages):
        ids = parcels_stuck(status=status, limit=page, margin=waited, after=after)
        if ids:
            yield ids
        if len(ids) < page:
            return
        after = ids[-1]


def orders_customs_reconcile(*, waited: float, page: int = 500, pages: int = 20) -> list[int]:
    """Orders ``at_customs`` for more than ``waited`` seconds whose declaration customs has already
    released or refused: the decision's callback was lost (a broker that lost its messages), so it is
    applied here as the callback would have (:func:`orders_customs_changed`), a page at a time.
    Declarations still under way are left to customs. Returns the orders moved."""
    moved = []
    for ids in _waiting(S.AT_CUSTOMS, waited, page, pages):
        decided = [(ref, info.status) for ref, info in customs_selectors.declarations_for(
            [Order(pk=pk).reference for pk in ids]).items() if info.status in ("released", "rejected")]
        if decided:
            moved += orders_customs_changed(changes=decided)
    return moved


def orders_fulfilment_reconcile(*, waited: float, page: int = 500, pages: int = 20) -> list[int]:
    """Orders waiting on their warehouse for more than ``waited`` seconds (paid or cleared for
    picking, picking, packed) whose fulfilment has gone further: the warehouse's callback was lost,
    so its step is applied here as the callback would have (:func:`orders_fulfilment_changed`,
    steps missed on the way recorded), a page at a time. Fulfilments no further than their order
    are left alone: a real warehouse takes hours. Returns the orders moved."""
    moved = []
    for status in (S.PAID, S.CLEARED, S.PICKING, S.PACKED):
        step = FULFILMENT_STEPS.index(status) if status in FULFILMENT_STEPS else -1
        for ids in _waiting(status, waited, page, pages):
            ahead = [(e.reference, e.warehouse, e.status, e.tracking_numbers)
                     for e in warehouse_selectors.fulfilment_states([Order(pk=pk).reference for pk in ids])
                     if FULFILMENT_STEPS.index(e.status) > step]
            if ahead:
                moved += orders_fulfilment_changed(events=ahead)
    return moved
