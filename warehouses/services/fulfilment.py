"""Pick, pack and ship: the warehouse's work on a reservation, by an operator or by the fulfilment
simulator, with the caller told of each step."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode, field_error
from core.states import check, transition, transition_batch
from core.tasks import enqueue, enqueue_ids, send_callbacks

from .. import interface
from ..access import may_operate
from ..gateways import carrier
from ..models import BondStatus, Fulfilment, Parcel, Reservation, ReservationLine
from ..states import STEP
from .batches import stock_confirm_shipment_batch
from .stock import _in_bond_for_sale, _locked_reservation, _refuse_in_bond, stock_confirm_shipment

log = logging.getLogger(__name__)


def fulfilment_request(*, reference: str, callback_task: str = "", actor) -> list[Fulfilment]:
    """Ask the warehouses holding ``reference``'s units to pick, pack and ship them.

    ``callback_task`` is a Celery task name, sent after commit on every step of each fulfilment
    (picking, packed, shipped) with :class:`~warehouses.interface.FulfilmentEvent`'s wire shape:
    ``args=[reference, warehouse_code, tracking_numbers], kwargs={"status": new_status}``
    (warehouses never imports the caller). The reservation stops expiring. Idempotent per
    (reference, warehouse). With ``WAREHOUSES_FULFILMENT_SIMULATOR`` on, each new fulfilment is
    handed to the simulator (:func:`fulfilment_simulate`), which picks, packs and ships it by itself.
    """
    callback_task = str(callback_task or "")
    if len(callback_task) > 128:
        raise field_error("callback_task", _("At most 128 characters."))
    with transaction.atomic():
        res = _locked_reservation(reference)
        if res.status != Reservation.Status.ACTIVE:
            raise DomainError(ErrorCode.CONFLICT, _("The reservation is %(status)s.") % {"status": res.get_status_display()},
                              {"reference": [res.status]})
        if res.expires_at is not None:
            res.expires_at = None
            res.save(update_fields=["expires_at"])
        codes = sorted(set(res.lines.filter(shipped_at__isnull=True).values_list("warehouse_id", flat=True)))
        existing = set(Fulfilment.objects.filter(reference=res.reference).values_list("warehouse_id", flat=True))
        Fulfilment.objects.bulk_create(
            [Fulfilment(reference=res.reference, warehouse_id=code, reservation=res, callback_task=callback_task) for code in codes],
            ignore_conflicts=True,
        )
        fulfilments = list(Fulfilment.objects.filter(reference=res.reference).order_by("warehouse_id"))
        if settings.WAREHOUSES_FULFILMENT_SIMULATOR:
            for fulfilment in fulfilments:
                if fulfilment.warehouse_id not in existing:
                    _simulate_later(fulfilment.pk, fulfilment.status)
        return fulfilments


def _check_operator(fulfilment: Fulfilment, actor):
    if not may_operate(actor, fulfilment.warehouse_id):
        raise DomainError(ErrorCode.NOT_FOUND, _("Order not found."))


def _notify(fulfilment: Fulfilment, status: str, tracking_numbers: list[str] | None = None) -> None:
    """Tell the caller that ``fulfilment`` moved to ``status``, once the transaction commits."""
    if not fulfilment.callback_task:
        return
    event = interface.FulfilmentEvent(reference=fulfilment.reference, warehouse=fulfilment.warehouse_id,
                                      status=str(status), tracking_numbers=list(tracking_numbers or []))
    name = fulfilment.callback_task
    transaction.on_commit(lambda: current_app.send_task(name, args=event.task_args(), kwargs=event.task_kwargs()))


def _notify_batch(fulfilments, status: str, numbers: dict[int, list[str]] | None = None) -> None:
    """:func:`_notify` for many fulfilments: one callback each, sent as one message per caller's
    task when that task has a batch form (core.tasks.send_callbacks)."""
    by_task: dict[str, list] = {}
    for fulfilment in fulfilments:
        if fulfilment.callback_task:
            event = interface.FulfilmentEvent(reference=fulfilment.reference, warehouse=fulfilment.warehouse_id, status=str(status),
                                              tracking_numbers=list((numbers or {}).get(fulfilment.pk, [])))
            by_task.setdefault(fulfilment.callback_task, []).append((event.task_args(), event.task_kwargs()))
    for name, calls in sorted(by_task.items()):
        send_callbacks(name, calls)


def fulfilment_pick(*, fulfilment: Fulfilment, actor) -> Fulfilment:
    """Start picking. Units still in bond that are sold into the warehouse's country may not be
    picked: ``customs_not_cleared`` (409) until customs releases them (:func:`stock_release_from_bond`)."""
    _check_operator(fulfilment, actor)
    with transaction.atomic():
        # Under the fulfilment's row lock: an illegal move is refused as such before the bond is looked at.
        current = Fulfilment.objects.select_for_update().filter(pk=fulfilment.pk).values_list("status", flat=True).first()
        if current is None:
            raise DomainError(ErrorCode.NOT_FOUND, _("Order not found."))
        check(fulfilment, Fulfilment.Status.PICKING, actor=actor, current=current)
        buyer_country = Reservation.objects.filter(pk=fulfilment.reservation_id).values_list("buyer_country_id", flat=True).get()
        lines = ReservationLine.objects.filter(reservation_id=fulfilment.reservation_id, warehouse_id=fulfilment.warehouse_id,
                                               shipped_at__isnull=True, bond_status=BondStatus.BONDED).select_related("warehouse")
        if any(_in_bond_for_sale(ln, buyer_country) for ln in lines):
            raise _refuse_in_bond(fulfilment.reference)
        transition(fulfilment, Fulfilment.Status.PICKING, actor=actor, place=fulfilment.warehouse_id,
                   extra_updates={"moved_at": timezone.now()})
        _notify(fulfilment, Fulfilment.Status.PICKING)
    return fulfilment


PARCEL_LIMITS = {"weight_g": 70_000, "length_mm": 2_000, "width_mm": 2_000, "height_mm": 2_000}


def parcel_pack(*, fulfilment: Fulfilment, parcels: list[dict], actor) -> list[Parcel]:
    """Record the parcels of a picked order (weight and dimensions each); it becomes packed."""
    _check_operator(fulfilment, actor)
    if not isinstance(parcels, list | tuple) or not parcels or len(parcels) > 50:
        raise field_error("parcels", _("Give 1 to 50 parcels."))
    rows = []
    for i, parcel in enumerate(parcels):
        values = {}
        for name, high in PARCEL_LIMITS.items():
            raw = parcel.get(name) if isinstance(parcel, dict) else None
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise field_error(f"parcels.{i}.{name}", _("Enter a whole number.")) from None
            if not 1 <= value <= high:
                raise field_error(f"parcels.{i}.{name}", _("Enter a value between 1 and %(high)s.") % {"high": high})
            values[name] = value
        rows.append(Parcel(fulfilment=fulfilment, **values))
    with transaction.atomic():
        transition(fulfilment, Fulfilment.Status.PACKED, actor=actor, place=fulfilment.warehouse_id,
                   extra_updates={"moved_at": timezone.now()})
        _notify(fulfilment, Fulfilment.Status.PACKED)
        return Parcel.objects.bulk_create(rows)


def _hand_over(fulfilment: Fulfilment, actor) -> None:
    """Hand the packed parcels to the carrier, with no transaction of ours open and no row locked
    (the payouts' pattern): the intent is recorded already (the fulfilment is packed, its parcels
    have no tracking number), the carrier is called, and each answer is recorded at once in a
    short conditional UPDATE. A parcel handed over before (a retried task, a crash after the
    carrier answered) is not handed over again; the ship step that follows finds them all."""
    check(fulfilment, Fulfilment.Status.SHIPPED, actor=actor,
          current=Fulfilment.objects.filter(pk=fulfilment.pk).values_list("status", flat=True).first() or "")
    lines = ReservationLine.objects.filter(reservation_id=fulfilment.reservation_id, warehouse_id=fulfilment.warehouse_id,
                                           shipped_at__isnull=True, bond_status=BondStatus.BONDED).select_related("warehouse", "reservation")
    if any(_in_bond_for_sale(ln, ln.reservation.buyer_country_id) for ln in lines):
        raise _refuse_in_bond(fulfilment.reference)  # nothing goes to the carrier that may not leave
    for parcel in fulfilment.parcels.filter(tracking_number="").order_by("pk"):
        handover = carrier.hand_over(warehouse=fulfilment.warehouse_id, reference=fulfilment.reference, weight_g=parcel.weight_g)
        Parcel.objects.filter(pk=parcel.pk, tracking_number="").update(
            carrier=handover.carrier, tracking_number=handover.tracking_number, handed_over_at=timezone.now())


def fulfilment_ship(*, fulfilment: Fulfilment, actor) -> Fulfilment:
    """Hand the packed parcels to the carrier (outside any lock, :func:`_hand_over`), then ship the
    reserved units and tell the caller, in one short transaction.

    Units still in bond for a sale into the warehouse's country: ``customs_not_cleared`` (409), and
    nothing moves, nothing is handed over (see :func:`stock_confirm_shipment`)."""
    _check_operator(fulfilment, actor)
    _hand_over(fulfilment, actor)
    with transaction.atomic():
        now = timezone.now()
        transition(fulfilment, Fulfilment.Status.SHIPPED, actor=actor, place=fulfilment.warehouse_id,
                   extra_updates={"shipped_at": now, "moved_at": now})
        stock_confirm_shipment(reference=fulfilment.reference, warehouse=fulfilment.warehouse_id, actor=actor)
        numbers = list(fulfilment.parcels.order_by("pk").values_list("tracking_number", flat=True))
        if not all(numbers):  # pragma: no cover - a parcel packed while we handed over: try again
            raise DomainError(ErrorCode.CONFLICT, _("A parcel was added meanwhile; ship again."))
        _notify(fulfilment, Fulfilment.Status.SHIPPED, numbers)
    return fulfilment


# --- the fulfilment simulator ------------------------------------------------------------------------

# Outer box (length, width, height in mm) by the weight it holds, lightest first.
_BOXES = [(500, (200, 150, 80)), (2_000, (300, 200, 150)), (5_000, (400, 300, 200)), (10_000, (500, 400, 300)),
          (PARCEL_LIMITS["weight_g"], (600, 400, 400))]
# A unit whose SKU has no weight recorded still weighs something in the box.
_UNKNOWN_UNIT_WEIGHT_G = 100


def _simulated_parcels(fulfilment: Fulfilment) -> list[dict]:
    """Parcels for the units of ``fulfilment``: their weight (Sku.weight_g × quantity) in one box of
    a size that holds it, split into several boxes only above the carrier's weight limit."""
    weight = sum(
        (weight_g or _UNKNOWN_UNIT_WEIGHT_G) * qty
        for weight_g, qty in ReservationLine.objects.filter(
            reservation_id=fulfilment.reservation_id, warehouse_id=fulfilment.warehouse_id, shipped_at__isnull=True,
        ).values_list("sku__weight_g", "quantity")
    )
    return _parcels_of_weight(weight)


def _parcels_of_weight(weight: int) -> list[dict]:
    weight = weight or _UNKNOWN_UNIT_WEIGHT_G
    limit = PARCEL_LIMITS["weight_g"]
    count = min(50, -(-weight // limit))
    parcels = []
    for i in range(count):
        share = min(limit, weight // count + (1 if i < weight % count else 0))
        length, width, height = next(dims for top, dims in _BOXES if share <= top)
        parcels.append({"weight_g": max(1, share), "length_mm": length, "width_mm": width, "height_mm": height})
    return parcels


def _simulate_later(fulfilment_id: int, status: str, *, countdown: float | None = None) -> None:
    """Schedule the simulator's step after ``status``, after commit, with that status' delay. The
    fulfilments scheduled in one transaction with the same delay go in one task
    (:func:`fulfilments_simulate`)."""
    _simulate_all_later([fulfilment_id], status, countdown=countdown)


def _simulate_all_later(fulfilment_ids, status: str, *, countdown: float | None = None) -> None:
    from ..tasks import simulate_fulfilments

    delay = settings.WAREHOUSES_FULFILMENT_DELAYS.get(str(status), 0) if countdown is None else countdown
    enqueue_ids(simulate_fulfilments, fulfilment_ids, str(status), countdown=delay or None)


def _next_step(status: str) -> str | None:
    """The warehouse's step after ``status``, as the machine declares it (None once shipped or cancelled)."""
    return Fulfilment.machine.next_named(status, STEP, {})


def fulfilment_simulate(*, fulfilment_id: int) -> str | None:
    """The simulator's step: move the fulfilment one step on as the system, then schedule the next.

    It does the step after the *current* status, so an operator who acted by hand meanwhile is
    followed, not repeated; a shipped or cancelled fulfilment (or the simulator switched off) gets
    nothing. Returns the new status, or None when nothing moved. Raises ``customs_not_cleared``
    when the units are still in bond (the task tries again later); a step lost to a concurrent
    move by hand is tried again at once from the new status.
    """
    if not settings.WAREHOUSES_FULFILMENT_SIMULATOR:
        return None
    for _attempt in range(3):
        fulfilment = Fulfilment.objects.filter(pk=fulfilment_id).first()
        target = _next_step(fulfilment.status) if fulfilment is not None else None
        if target is None:
            return None
        try:
            if target == Fulfilment.Status.SHIPPED:
                # Not inside a transaction of ours: the carrier is called with no lock held.
                fulfilment_ship(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
            else:
                with transaction.atomic():
                    if target == Fulfilment.Status.PICKING:
                        fulfilment_pick(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
                    else:
                        parcel_pack(fulfilment=fulfilment, parcels=_simulated_parcels(fulfilment), actor=SYSTEM_ACTOR)
                    _simulate_later(fulfilment.pk, target)
        except DomainError as exc:
            if exc.code == ErrorCode.ILLEGAL_TRANSITION:
                continue  # moved by hand between our read and our lock: follow it from where it is
            raise
        return str(target)
    return None


def _in_bond(fulfilments) -> set[int]:
    """The fulfilments of ``fulfilments`` with units still in bond for a sale into their
    warehouse's country (one query): they may be neither picked nor shipped yet."""
    keys = {(f.reservation_id, f.warehouse_id): f.pk for f in fulfilments}
    rows = ReservationLine.objects.filter(
        reservation_id__in={f.reservation_id for f in fulfilments}, shipped_at__isnull=True, bond_status=BondStatus.BONDED,
        warehouse__country_id=F("reservation__buyer_country_id")).values_list("reservation_id", "warehouse_id").distinct()
    return {keys[key] for key in rows if key in keys}


def _pick_batch(fulfilments: list[Fulfilment]) -> list[int]:
    """Pick many requested fulfilments as the system (one transaction, set-based)."""
    with transaction.atomic():
        bonded = _in_bond(fulfilments)
        ready = [f for f in fulfilments if f.pk not in bonded]
        moved = transition_batch(Fulfilment, [f.pk for f in ready], Fulfilment.Status.REQUESTED, Fulfilment.Status.PICKING,
                                 actor=SYSTEM_ACTOR, extra_updates={"moved_at": timezone.now()},
                                 events={f.pk: {"place": f.warehouse_id} for f in ready})
        done = set(moved)
        _notify_batch([f for f in ready if f.pk in done], Fulfilment.Status.PICKING)
        _simulate_all_later(moved, Fulfilment.Status.PICKING)
        if bonded:
            # Still in bond: the single step refuses them and tries again later (its retries).
            from ..tasks import simulate_fulfilment

            for pk in sorted(bonded):
                enqueue(simulate_fulfilment, pk)
    return moved


def _pack_batch(fulfilments: list[Fulfilment]) -> list[int]:
    """Pack many picked fulfilments as the system: their parcels weighed as
    :func:`_simulated_parcels` weighs one (one query for all), one set-based move."""
    weights: dict[tuple[int, str], int] = {}
    for res_id, warehouse_id, weight_g, qty in ReservationLine.objects.filter(
            reservation_id__in={f.reservation_id for f in fulfilments}, shipped_at__isnull=True,
    ).values_list("reservation_id", "warehouse_id", "sku__weight_g", "quantity"):
        weights[(res_id, warehouse_id)] = weights.get((res_id, warehouse_id), 0) + (weight_g or _UNKNOWN_UNIT_WEIGHT_G) * qty
    by_pk = {f.pk: f for f in fulfilments}
    with transaction.atomic():
        moved = transition_batch(Fulfilment, list(by_pk), Fulfilment.Status.PICKING, Fulfilment.Status.PACKED,
                                 actor=SYSTEM_ACTOR, extra_updates={"moved_at": timezone.now()},
                                 events={f.pk: {"place": f.warehouse_id} for f in fulfilments})
        Parcel.objects.bulk_create([
            Parcel(fulfilment=by_pk[pk], **values) for pk in moved
            for values in _parcels_of_weight(weights.get((by_pk[pk].reservation_id, by_pk[pk].warehouse_id), 0))])
        _notify_batch([by_pk[pk] for pk in moved], Fulfilment.Status.PACKED)
        _simulate_all_later(moved, Fulfilment.Status.PACKED)
    return moved


def _ship_batch(fulfilments: list[Fulfilment]) -> list[int]:
    """Ship many packed fulfilments as the system: the parcels handed to the carrier first, with
    no transaction open, in one exchange (:func:`carrier.hand_over_batch`) whose answers are
    recorded at once in one conditional UPDATE (as :func:`_hand_over` records each), then the
    fulfilments shipped set-based and their units shipped, in one short transaction."""
    bonded = _in_bond(fulfilments)
    ready = {f.pk: f for f in fulfilments if f.pk not in bonded}
    parcels = list(Parcel.objects.filter(fulfilment_id__in=list(ready), tracking_number="").order_by("pk")
                   .values_list("pk", "fulfilment_id", "weight_g"))
    if parcels:
        # One exchange with the carrier (its manifest), its answers recorded at once in one statement.
        handovers = dict(zip([pk for pk, _f, _w in parcels], carrier.hand_over_batch(
            [(ready[f].warehouse_id, ready[f].reference, weight) for _pk, f, weight in parcels]), strict=True))
        # (core.sql.update_rows: joined from a VALUES list, not a CASE WHEN per parcel and column.)
        sql.update_rows(Parcel, {pk: {"carrier": h.carrier, "tracking_number": h.tracking_number} for pk, h in handovers.items()},
                        common={"handed_over_at": timezone.now()}, where={"tracking_number": ""})
    with transaction.atomic():
        now = timezone.now()
        moved = transition_batch(Fulfilment, list(ready), Fulfilment.Status.PACKED, Fulfilment.Status.SHIPPED,
                                 actor=SYSTEM_ACTOR, extra_updates={"shipped_at": now, "moved_at": now},
                                 events={pk: {"place": f.warehouse_id} for pk, f in ready.items()})
        stock_confirm_shipment_batch(shipments=[(ready[pk].reference, ready[pk].warehouse_id) for pk in moved], actor=SYSTEM_ACTOR)
        numbers: dict[int, list[str]] = {}
        for fulfilment_id, number in Parcel.objects.filter(fulfilment_id__in=moved).order_by("pk").values_list(
                "fulfilment_id", "tracking_number"):
            numbers.setdefault(fulfilment_id, []).append(number)
        if not all(all(numbers.get(pk) or [""]) for pk in moved):  # pragma: no cover - a parcel packed meanwhile
            raise DomainError(ErrorCode.CONFLICT, _("A parcel was added meanwhile; ship again."))
        _notify_batch([ready[pk] for pk in moved], Fulfilment.Status.SHIPPED, numbers)
    if bonded:
        from ..tasks import simulate_fulfilment

        for pk in sorted(bonded):
            enqueue(simulate_fulfilment, pk)
    return moved


# Fulfilments due in the same status that one simulator task takes along.
TAKE_ALONG = 500


def fulfilments_simulate(*, fulfilment_ids, status: str | None = None, take_along: bool = False) -> dict[str, list[int]]:
    """The simulator's step on many fulfilments at once (task ``warehouses.simulate_fulfilments``):
    each moves one step on from its *current* status as :func:`fulfilment_simulate` moves one,
    the requested picked, the picked packed, the packed shipped, each group in one set-based move
    (:func:`core.states.transition_batch`) with one callback message for all, then the next step
    scheduled for the group in one task. Units still in bond are left to the single step (which
    tries again later); units shipped set-based (:func:`.batches.stock_confirm_shipment_batch`). A
    group refused as a whole (a reservation cancelled meanwhile) is done one by one. Returns ``{new status: moved ids}``. Safe twice: a fulfilment moved meanwhile is skipped."""
    if not settings.WAREHOUSES_FULFILMENT_SIMULATOR:
        return {}
    by_status: dict[str, list[Fulfilment]] = {}
    rows = Fulfilment.objects.filter(pk__in=sorted(set(fulfilment_ids))).order_by("pk")
    for fulfilment in rows.filter(status=status) if status else rows:
        if _next_step(fulfilment.status):
            by_status.setdefault(fulfilment.status, []).append(fulfilment)
    if take_along:
        # The others in the same status whose step is due come along (each request sends its own
        # task: the first to run moves them all in one batch, the others find nothing left).
        now = timezone.now()
        for status, group in by_status.items():
            due = now - timedelta(seconds=settings.WAREHOUSES_FULFILMENT_DELAYS.get(str(status), 0))
            known = {f.pk for f in group}
            group += [f for f in Fulfilment.objects.annotate(since=Coalesce("moved_at", "created_at"))
                      .filter(status=status, since__lte=due).exclude(Exists(_units_in_bond())).order_by("pk")[:TAKE_ALONG]
                      if f.pk not in known]
    moved: dict[str, list[int]] = {}
    steps = ((Fulfilment.Status.REQUESTED, _pick_batch), (Fulfilment.Status.PICKING, _pack_batch),
             (Fulfilment.Status.PACKED, _ship_batch))
    for status, step in steps:
        group = by_status.get(status)
        if not group:
            continue
        try:
            moved[_next_step(status)] = step(group)
        except DomainError:
            log.info("fulfilment simulator: a batch of %s refused; one by one", len(group))
            moved[_next_step(status)] = [f.pk for f in group if fulfilment_simulate(fulfilment_id=f.pk) == _next_step(status)]
    return moved


def _units_in_bond():
    """The fulfilment's (``OuterRef``) unshipped units still in bond for a sale into their
    warehouse's country: it may be neither picked nor shipped yet."""
    return ReservationLine.objects.filter(
        reservation_id=OuterRef("reservation_id"), warehouse_id=OuterRef("warehouse_id"), shipped_at__isnull=True,
        bond_status=BondStatus.BONDED, warehouse__country_id=F("reservation__buyer_country_id"),
    )


def fulfilments_resume(*, now=None, limit: int = 200) -> int:
    """The simulator's safety net (Celery beat): re-send the step of fulfilments that have not moved
    for ``WAREHOUSES_FULFILMENT_STALL_AFTER`` seconds (a lost task, a worker restarted, retries
    exhausted). Units still in bond are left alone: the release from bond wakes them. Nothing when
    the simulator is off. Returns how many were re-sent."""
    if not settings.WAREHOUSES_FULFILMENT_SIMULATOR:
        return 0
    now = now or timezone.now()
    before = now - timedelta(seconds=settings.WAREHOUSES_FULFILMENT_STALL_AFTER)
    in_bond = _units_in_bond()
    stalled = list(
        Fulfilment.objects.filter(status__in=[s for s in Fulfilment.Status.values if _next_step(s)])
        .annotate(since=Coalesce("moved_at", "created_at"))
        .filter(since__lte=before)
        .exclude(Exists(in_bond))
        .order_by("since").values_list("pk", flat=True)[:limit]
    )
    from ..tasks import simulate_fulfilment

    for pk in stalled:
        enqueue(simulate_fulfilment, pk)
    return len(stalled)
