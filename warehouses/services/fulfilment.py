"""Pick, pack and ship: the warehouse's work on a reservation, by an operator or by the fulfilment
simulator, with the caller told of each step."""

from __future__ import annotations

from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode, field_error
from core.states import check, transition
from core.tasks import enqueue

from .. import interface
from ..access import may_operate
from ..gateways import carrier
from ..models import BondStatus, Fulfilment, Parcel, Reservation, ReservationLine
from ..states import STEP
from .stock import _in_bond_for_sale, _locked_reservation, _refuse_in_bond, stock_confirm_shipment


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
    ) or _UNKNOWN_UNIT_WEIGHT_G
    limit = PARCEL_LIMITS["weight_g"]
    count = min(50, -(-weight // limit))
    parcels = []
    for i in range(count):
        share = min(limit, weight // count + (1 if i < weight % count else 0))
        length, width, height = next(dims for top, dims in _BOXES if share <= top)
        parcels.append({"weight_g": max(1, share), "length_mm": length, "width_mm": width, "height_mm": height})
    return parcels


def _simulate_later(fulfilment_id: int, status: str, *, countdown: float | None = None) -> None:
    """Schedule the simulator's step after ``status``, after commit, with that status' delay."""
    from ..tasks import simulate_fulfilment

    delay = settings.WAREHOUSES_FULFILMENT_DELAYS.get(str(status), 0) if countdown is None else countdown
    enqueue(simulate_fulfilment, fulfilment_id, countdown=delay or None)


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


def fulfilments_resume(*, now=None, limit: int = 200) -> int:
    """The simulator's safety net (Celery beat): re-send the step of fulfilments that have not moved
    for ``WAREHOUSES_FULFILMENT_STALL_AFTER`` seconds (a lost task, a worker restarted, retries
    exhausted). Units still in bond are left alone: the release from bond wakes them. Nothing when
    the simulator is off. Returns how many were re-sent."""
    if not settings.WAREHOUSES_FULFILMENT_SIMULATOR:
        return 0
    now = now or timezone.now()
    before = now - timedelta(seconds=settings.WAREHOUSES_FULFILMENT_STALL_AFTER)
    in_bond = ReservationLine.objects.filter(
        reservation_id=OuterRef("reservation_id"), warehouse_id=OuterRef("warehouse_id"), shipped_at__isnull=True,
        bond_status=BondStatus.BONDED, warehouse__country_id=F("reservation__buyer_country_id"),
    )
    stalled = list(
        Fulfilment.objects.filter(status__in=[s for s in Fulfilment.Status.values if _next_step(s)])
        .annotate(since=Coalesce("moved_at", "created_at"))
        .filter(since__lte=before)
        .exclude(Exists(in_bond))
        .order_by("since").values_list("pk", flat=True)[:limit]
    )
    for pk in stalled:
        _simulate_later(pk, "", countdown=0)
    return len(stalled)
