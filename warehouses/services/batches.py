"""The stock steps of the parcel road on many reservations at once: units out of bond after customs'
release, fulfilments requested, units shipped. Each does what its single form in :mod:`.stock` and
:mod:`.fulfilment` does for one reference, in one transaction and with a statement count bounded by
the levels touched, not by the references: the reservations are locked in one statement (primary
key order), the level rows once each in the writers' order (:func:`_lock_levels`), each level moved
by the sum of its references' quantities in one conditional UPDATE (the invariants checked in its
WHERE clause, as :func:`.ledger._move` does), and one movement per reference and line written in
one INSERT, so that the ledger reads as it would have one by one.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from core.errors import DomainError, ErrorCode
from core.states import actor_fields, transition_batch

from ..models import BondStatus, Fulfilment, Movement, Reservation, ReservationLine, StockLevel
from .ledger import _apply, _level_for, _lock_levels
from .stock import _in_bond_for_sale, _refuse_in_bond, _refuse_inactive

K = Movement.Kind


def _locked_reservations(references) -> dict[str, Reservation]:
    """The reservations of ``references``, locked in primary-key order (one statement)."""
    rows = Reservation.objects.select_for_update().filter(reference__in=sorted({str(r) for r in references})).order_by("pk")
    found = {res.reference: res for res in rows}
    missing = sorted(set(map(str, references)) - set(found))
    if missing:
        raise DomainError(ErrorCode.NOT_FOUND, _("No reservation with this reference."), {"reference": [_("Unknown reference.")]})
    return found


def _move_many(level: StockLevel, kind: str, rows: list[tuple[str, int, int, int]], *, actor, now, note: str = "") -> None:
    """Apply the movements ``rows`` (reference, on hand delta, reserved delta, quantity) to
    ``level``: one conditional UPDATE by their sums, one INSERT of one movement each. Refused as a
    whole (``conflict``, nothing written) when the sums would break the level's invariants."""
    on_hand = sum(row[1] for row in rows)
    reserved = sum(row[2] for row in rows)
    if not _apply(level, on_hand=on_hand, reserved=reserved, now=now):
        raise DomainError(ErrorCode.CONFLICT, _("The stock level changed meanwhile; nothing was written."))
    who = actor_fields(actor)
    Movement.objects.bulk_create([
        Movement(warehouse_id=level.warehouse_id, sku_id=level.sku_id, bond_status=level.bond_status, kind=kind,
                 quantity=quantity, on_hand_delta=dh, reserved_delta=dr, note=note[:500], reference=reference[:64], at=now, **who)
        for reference, dh, dr, quantity in rows])


def stock_release_from_bond_batch(*, references, actor) -> list[str]:
    """:func:`.stock.stock_release_from_bond` for many references in one transaction: the bonded
    units of each active reservation sold into its warehouse's country leave bond (a
    ``release_from_bond`` pair per line), and fulfilments waiting for them are woken (simulator on).
    A shipped reservation is left as is; a released or expired one refuses the batch (``conflict``),
    as one by one. Returns the references whose units left bond now. Idempotent."""
    with transaction.atomic():
        reservations = _locked_reservations(references)
        for res in reservations.values():
            if res.status not in (Reservation.Status.ACTIVE, Reservation.Status.SHIPPED):
                raise _refuse_inactive(res)
        active = {res.pk: res for res in reservations.values() if res.status == Reservation.Status.ACTIVE}
        lines = [ln for ln in ReservationLine.objects.filter(reservation_id__in=list(active), shipped_at__isnull=True,
                                                             bond_status=BondStatus.BONDED)
                 .select_related("level", "warehouse").order_by("reservation_id", "sku_id", "level_id")
                 if _in_bond_for_sale(ln, active[ln.reservation_id].buyer_country_id)]
        if not lines:
            return []
        released = {key: _level_for(key[0], key[1], BondStatus.RELEASED) for key in sorted({(ln.warehouse_id, ln.sku_id) for ln in lines})}
        _lock_levels([ln.level_id for ln in lines] + [lv.pk for lv in released.values()])
        now = timezone.now()
        out: dict[int, list] = defaultdict(list)
        into: dict[int, list] = defaultdict(list)
        levels = {}
        for ln in lines:
            q, reference = ln.quantity, active[ln.reservation_id].reference
            target = released[(ln.warehouse_id, ln.sku_id)]
            levels[ln.level_id], levels[target.pk] = ln.level, target
            out[ln.level_id].append((reference, -q, -q, -q))
            into[target.pk].append((reference, q, q, q))
            ln.level, ln.bond_status = target, BondStatus.RELEASED
        for level_id in sorted(out):
            _move_many(levels[level_id], K.RELEASE_FROM_BOND, out[level_id], actor=actor, now=now)
        for level_id in sorted(into):
            _move_many(levels[level_id], K.RELEASE_FROM_BOND, into[level_id], actor=actor, now=now)
        # One UPDATE joined from a VALUES list (bulk_update compiles a CASE per row and column).
        sql.update_rows(ReservationLine, {ln.pk: {"level": ln.level_id, "bond_status": ln.bond_status} for ln in lines})
        if settings.WAREHOUSES_FULFILMENT_SIMULATOR:
            from .fulfilment import _simulate_all_later

            waiting = Fulfilment.objects.filter(reservation_id__in={ln.reservation_id for ln in lines},
                                                status=Fulfilment.Status.REQUESTED).values_list("pk", "reservation_id", "warehouse_id")
            keys = {(ln.reservation_id, ln.warehouse_id) for ln in lines}
            _simulate_all_later([pk for pk, res_id, code in waiting if (res_id, code) in keys], Fulfilment.Status.REQUESTED)
        return sorted({active[ln.reservation_id].reference for ln in lines})


def fulfilment_request_batch(*, references, callback_task: str = "", actor) -> list[Fulfilment]:
    """:func:`.fulfilment.fulfilment_request` for many references in one transaction: a fulfilment
    per warehouse holding each reservation's unshipped units (idempotent per reference and
    warehouse), the reservations' expiry stopped, the new fulfilments handed to the simulator (on)
    in one task. A reservation no longer active refuses the batch (``conflict``), as one by one."""
    from .fulfilment import _simulate_all_later

    callback_task = str(callback_task or "")
    if len(callback_task) > 128:
        raise DomainError(ErrorCode.VALIDATION, _("At most 128 characters."), {"callback_task": [_("At most 128 characters.")]})
    with transaction.atomic():
        reservations = _locked_reservations(references)
        for res in reservations.values():
            if res.status != Reservation.Status.ACTIVE:
                raise DomainError(ErrorCode.CONFLICT, _("The reservation is %(status)s.") % {"status": res.get_status_display()},
                                  {"reference": [res.status]})
        ids = [res.pk for res in reservations.values()]
        Reservation.objects.filter(pk__in=ids, expires_at__isnull=False).update(expires_at=None)
        existing = set(Fulfilment.objects.filter(reservation_id__in=ids).values_list("reservation_id", "warehouse_id"))
        by_pk = {res.pk: res for res in reservations.values()}
        wanted = sorted(set(ReservationLine.objects.filter(reservation_id__in=ids, shipped_at__isnull=True)
                            .values_list("reservation_id", "warehouse_id")))
        Fulfilment.objects.bulk_create(
            [Fulfilment(reference=by_pk[res_id].reference, warehouse_id=code, reservation_id=res_id, callback_task=callback_task)
             for res_id, code in wanted if (res_id, code) not in existing],
            ignore_conflicts=True,
        )
        fulfilments = list(Fulfilment.objects.filter(reservation_id__in=ids).order_by("reference", "warehouse_id"))
        if settings.WAREHOUSES_FULFILMENT_SIMULATOR:
            _simulate_all_later([f.pk for f in fulfilments if (f.reservation_id, f.warehouse_id) not in existing],
                                Fulfilment.Status.REQUESTED)
        return fulfilments


def stock_confirm_shipment_batch(*, shipments, actor) -> None:
    """:func:`.stock.stock_confirm_shipment` for many ``(reference, warehouse)`` in one transaction:
    each reservation's unshipped units in that warehouse become ``ship`` movements, and a
    reservation with nothing left to ship becomes ``shipped`` (set-based). A shipped reservation is
    left as is; units still in bond for a sale into their warehouse's country, or a reservation no
    longer active, refuse the batch (nothing written), as one by one. Idempotent."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for reference, warehouse in shipments:
        wanted[str(reference)].add(str(warehouse))
    with transaction.atomic():
        reservations = _locked_reservations(wanted)
        active = {}
        for res in reservations.values():
            if res.status == Reservation.Status.SHIPPED:
                continue
            if res.status != Reservation.Status.ACTIVE:
                raise _refuse_inactive(res)
            active[res.pk] = res
        unshipped = list(ReservationLine.objects.filter(reservation_id__in=list(active), shipped_at__isnull=True)
                         .select_related("level", "warehouse").order_by("reservation_id", "sku_id", "level_id"))
        lines = [ln for ln in unshipped if ln.warehouse_id in wanted[active[ln.reservation_id].reference]]
        if not lines:
            return
        for ln in lines:
            if _in_bond_for_sale(ln, active[ln.reservation_id].buyer_country_id):
                raise _refuse_in_bond(active[ln.reservation_id].reference)
        shipping = {ln.pk for ln in lines}
        completes = sorted({ln.reservation_id for ln in lines} - {ln.reservation_id for ln in unshipped if ln.pk not in shipping})
        _lock_levels(ln.level_id for ln in lines)
        now = timezone.now()
        moves: dict[int, list] = defaultdict(list)
        levels = {}
        for ln in lines:
            levels[ln.level_id] = ln.level
            moves[ln.level_id].append((active[ln.reservation_id].reference, -ln.quantity, -ln.quantity, ln.quantity))
        for level_id in sorted(moves, key=lambda pk: (levels[pk].sku_id, pk)):
            _move_many(levels[level_id], K.SHIP, moves[level_id], actor=actor, now=now)
        ReservationLine.objects.filter(pk__in=sorted(shipping)).update(shipped_at=now)
        transition_batch(Reservation, completes, Reservation.Status.ACTIVE, Reservation.Status.SHIPPED, actor=actor,
                         extra_updates={"closed_at": now})
