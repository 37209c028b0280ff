"""Reservations and what ends them: units held for a caller's reference (an order) until they
ship, the caller lets them go or their time runs out; release from bond on customs' word; returns
from the border. The units move only through the ledger (:mod:`warehouses.services.ledger`); the
reservation's status only through its machine (``RESERVATION_MACHINE`` in :mod:`warehouses.states`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode, field_error
from core.models import Country
from core.sql import cursor as sql_cursor
from core.sql import fetch as sql_fetch
from core.sql import json_text
from core.states import actor_fields, check, record_creation, transition, transition_batch

from .. import interface
from ..models import BondStatus, Fulfilment, Movement, Reservation, ReservationLine, Sku, StockLevel, Warehouse
from ..selectors import allocation_plan, short_stock
from .ledger import MAX_QUANTITY, K, _check_quantity, _level_for, _lock_levels, _move, _must_move

RESERVE_ATTEMPTS = 8


def _reservation_info(res: Reservation) -> interface.Reservation:
    lines = [
        interface.ReservationLine(sku_id=line.sku_id, warehouse=line.warehouse_id, bond_status=line.bond_status,
                                  quantity=line.quantity, shipped=line.shipped_at is not None)
        for line in res.lines.order_by("sku_id", "level_id")
    ]
    return interface.Reservation(reference=res.reference, status=res.status, buyer_country=res.buyer_country_id,
                                 expires_at=res.expires_at, lines=lines)


def _parse_lines(lines, field: str = "lines", *, check_known: bool = True) -> dict[int, int]:
    if not isinstance(lines, list | tuple) or not lines:
        raise field_error(field, _("Give at least one line."))
    wanted: dict[int, int] = defaultdict(int)
    for i, line in enumerate(lines):
        try:
            sku_id, qty = line
        except (TypeError, ValueError):
            raise field_error(f"{field}.{i}", _("A line is a SKU and a quantity.")) from None
        wanted[int(sku_id)] += _check_quantity(qty, f"{field}.{i}.quantity")
    for qty in wanted.values():
        if qty > MAX_QUANTITY:
            raise field_error(field, _("Too many units of one SKU."))
    if check_known:
        _check_known(lines, wanted, field)
    return dict(wanted)


def _check_known(lines, wanted, field: str = "lines") -> None:
    known = set(Sku.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    for i, line in enumerate(lines):
        if int(line[0]) not in known:
            raise DomainError(ErrorCode.UNKNOWN_SKU, _("Unknown SKU."), {f"{field}.{i}.sku": [_("Unknown SKU %(id)s.") % {"id": line[0]}]})


def stock_reserve(*, lines: list[tuple[int, int]], storefront_warehouses: list[str], buyer_country: str,
                  reference: str, ttl_seconds: int | None = None, actor) -> interface.Reservation:
    """Hold units of every line for ``reference``: all lines or nothing.

    Allocation rule, per SKU, over the active warehouses that serve the storefront:

    1. warehouses in the buyer's country first (no border left to cross), then the others;
    2. within each group, released stock before bonded stock (released stock needs no customs at
       sale; bonded stock sold into its warehouse's country waits for customs to release it:
       :func:`stock_release_from_bond`);
    3. then by warehouse priority (lower first), then code.

    A line may be split over several levels when no single one holds enough. Each take is a
    conditional ``UPDATE ... WHERE on_hand - reserved >= n``: the database refuses an oversell;
    a take lost to a concurrent reservation re-plans from fresh availability.

    Idempotent per ``reference``: a repeat with the same lines returns the existing reservation
    (whatever its status); other lines under the same reference raise ``reservation_conflict``.
    Short stock raises ``insufficient_stock`` (409) naming the short line (``lines.<i>``).
    ``ttl_seconds`` None uses ``WAREHOUSES_RESERVATION_TTL``; expiry returns the units.
    """
    args = _reserve_args(lines, reference, buyer_country, ttl_seconds)
    if connection.vendor == "postgresql":
        call = _reserve_call(*args, list(storefront_warehouses or []), actor, expect=None)
        return call.answer(sql_fetch(call.sql, call.params)[0][0])
    reference, _lines, wanted, positions, buyer_country, ttl = args
    return _reserve_portable(reference, wanted, positions, list(storefront_warehouses or []), buyer_country, ttl, actor)


def _reserve_args(lines, reference, buyer_country, ttl_seconds) -> tuple:
    """:func:`stock_reserve`'s arguments checked: (reference, lines, wanted, positions, buyer_country, ttl)."""
    reference = str(reference or "").strip()
    if not reference or len(reference) > 64:
        raise field_error("reference", _("Enter a reference of 1 to 64 characters."))
    # PostgreSQL checks the SKUs, warehouses and country inside the reservation's statement.
    wanted = _parse_lines(lines, check_known=connection.vendor != "postgresql")
    ttl = settings.WAREHOUSES_RESERVATION_TTL if ttl_seconds is None else ttl_seconds
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= 30 * 86400:
        raise field_error("ttl_seconds", _("Enter a lifetime between 1 second and 30 days."))
    positions = {int(line[0]): i for i, line in reversed(list(enumerate(lines)))}
    return reference, lines, wanted, positions, str(buyer_country or "").upper(), ttl


@dataclass(frozen=True)
class ReserveCall:
    """A reservation as one SQL expression (PostgreSQL), for a caller to send inside a statement of
    its own: ``sql`` selects one JSON value with ``params``; ``answer`` turns that value into the
    reservation, or raises the reservation's refusal."""

    sql: str
    params: list
    answer: Callable[[dict], interface.Reservation]

    def refusal(self, error: Exception) -> None:
        """For the error of the statement that carried this call: raise the reservation's refusal
        (409 ``insufficient_stock`` naming the line...) when it was refused; return when its units
        were only elsewhere than previewed (the caller may reserve again without a preview);
        re-raise anything else."""
        cause = error.__cause__
        state = getattr(cause, "sqlstate", None)
        if state == "KV003":
            self.answer(json.loads(cause.diag.message_detail))
        elif state != "KV002":
            raise error


def stock_reserve_call(*, lines: list[tuple[int, int]], storefront_warehouses: list[str], buyer_country: str,
                       reference: str, ttl_seconds: int | None = None, actor,
                       as_previewed: list[interface.ReservationLine]) -> ReserveCall:
    """:func:`stock_reserve` as a :class:`ReserveCall` that must land where ``as_previewed`` says
    (``selectors.allocation_preview``): when it does not (another buyer took those units meanwhile,
    or the stock ran short), the statement that carries it fails and writes nothing;
    :meth:`ReserveCall.refusal` says why. PostgreSQL only."""
    expect = [{"sku_id": line.sku_id, "warehouse_id": line.warehouse, "bond_status": line.bond_status,
               "take": line.quantity} for line in as_previewed]
    return _reserve_call(*_reserve_args(lines, reference, buyer_country, ttl_seconds), list(storefront_warehouses or []),
                         actor, expect=expect)


def _reserve_portable(reference, wanted, positions, storefront_warehouses, buyer_country, ttl, actor):
    """The reservation one step at a time (SQLite, the zero-setup demo)."""
    codes = sorted(Warehouse.objects.filter(code__in=storefront_warehouses, is_active=True).values_list("code", flat=True))
    if not codes:
        raise DomainError(ErrorCode.UNKNOWN_WAREHOUSE, _("No active warehouse serves this storefront."),
                          {"storefront_warehouses": [_("No active warehouse.")]})
    if not Country.objects.filter(iso2=buyer_country).exists():
        raise DomainError(ErrorCode.UNKNOWN_COUNTRY, _("Unknown country."), {"buyer_country": [_("Unknown country.")]})
    with transaction.atomic():
        now = timezone.now()
        try:
            with transaction.atomic():
                res = Reservation.objects.create(reference=reference, buyer_country_id=buyer_country,
                                                 expires_at=now + timedelta(seconds=ttl))
        except IntegrityError:
            return _existing_reservation(reference, wanted)
        record_creation(res, actor=actor, at=now)
        rows = []
        for sku_id in sorted(wanted):
            rows += _allocate(res, sku_id, wanted[sku_id], codes, buyer_country, positions[sku_id], actor, now)
        ReservationLine.objects.bulk_create(rows)
    return _reservation_info(res)


# The reservation in one call of ``warehouses_stock_reserve`` (PostgreSQL, migration 0011), which
# runs two statements. The first locks the candidate levels (units available, in an active
# warehouse of the storefront) in (sku, level pk) order, the order of ``ledger._lock_levels``. The
# second then starts with a snapshot taken after those locks, so
# it reads the levels' latest figures and nobody can change them under it. (Locking in the same
# statement as the UPDATE is not enough: a level changed by another transaction between the
# statement's snapshot and its lock was measured to be skipped by the UPDATE while the movement and
# line of the same plan were written; tests/warehouses/test_concurrency.py caught it.) ``lv`` reads
# the locked levels by their ids, and only those: a level that became available after the first
# statement, taken by the second, would be locked out of (sku, pk) order and could deadlock with a
# writer locking in order (reading them by the first statement's filter instead, to make both one
# statement, did deadlock in tests/warehouses/test_concurrency.py). ``plan`` applies the allocation rule to
# them (buyer's country first, released before bonded, then warehouse priority and code: the order
# of ``selectors.allocation_plan``), taking from each level in turn what the line still needs. Only
# when every line is covered (and the SKUs, a warehouse and the country exist) is the reservation
# row inserted (the unique reference makes a repeat insert nothing), and only then are the levels
# updated (the WHERE clause and the check constraints still refuse an oversell), the movements,
# lines and creation event written. Nothing is written otherwise. Levels with nothing available
# are not locked: once a hot product is sold out, refusals wait for nobody.
_RESERVE_SQL = ("SELECT row_to_json(r) FROM warehouses_stock_reserve(%s, %s::bigint[], %s::int[], %s::text[], %s, "
                "%s::timestamptz, %s::timestamptz, %s::bigint, %s, %s, %s::int, %s::jsonb) r")


def _reserve_call(reference: str, lines, wanted: dict[int, int], positions: dict[int, int], buyer_country: str, ttl: int,
                  codes: list[str], actor, *, expect: list | None) -> ReserveCall:
    """:func:`stock_reserve` as one call of ``warehouses_stock_reserve`` (PostgreSQL)."""
    from django.contrib.contenttypes.models import ContentType

    now = timezone.now()
    expires_at = now + timedelta(seconds=ttl)
    who = actor_fields(actor)
    actor_id = who["actor"].pk if who["actor"] is not None else None
    skus = sorted(wanted)
    params = [reference, skus, [wanted[sku] for sku in skus], sorted(set(codes)), buyer_country, expires_at, now, actor_id,
              who["actor_label"], Reservation.machine.name, ContentType.objects.get_for_model(Reservation).pk,
              None if expect is None else json_text(expect)]

    def answer(row: dict) -> interface.Reservation:
        res_id, known, got, plan = row["o_res_id"], row["o_known"], row["o_got"], row["o_plan"]
        if res_id is not None:
            if not (row["o_updated"] == row["o_moved"] == row["o_lined"] == len(plan or []) and row["o_evented"] == 1):  # pragma: no cover - guarded by the lock
                raise DomainError(ErrorCode.CONFLICT, _("The stock level changed meanwhile; nothing was written."))
            held = [interface.ReservationLine(sku_id=sku_id, warehouse=warehouse, bond_status=bond, quantity=take, shipped=False)
                    for sku_id, _level, warehouse, bond, take in plan]
            return interface.Reservation(reference=reference, status=Reservation.Status.ACTIVE, buyer_country=buyer_country,
                                         expires_at=expires_at, lines=held)
        if row["o_prior"] is not None:
            return _existing_reservation(reference, wanted)
        if known["skus"] != len(skus):
            _check_known(lines, wanted)  # raises unknown_sku naming the line
        if not known["warehouses"]:
            raise DomainError(ErrorCode.UNKNOWN_WAREHOUSE, _("No active warehouse serves this storefront."),
                              {"storefront_warehouses": [_("No active warehouse.")]})
        if not known["countries"]:
            raise DomainError(ErrorCode.UNKNOWN_COUNTRY, _("Unknown country."), {"buyer_country": [_("Unknown country.")]})
        for sku_id, quantity, taken, available in got:
            if taken < quantity:
                raise short_stock(positions[sku_id], available, quantity)
        raise DomainError(ErrorCode.CONFLICT, _("Stock is changing too fast; try again."))  # pragma: no cover

    return ReserveCall(_RESERVE_SQL, params, answer)


def _existing_reservation(reference: str, wanted: dict[int, int]) -> interface.Reservation:
    res = Reservation.objects.get(reference=reference)
    held: dict[int, int] = defaultdict(int)
    for sku_id, qty in res.lines.values_list("sku_id", "quantity"):
        held[sku_id] += qty
    if dict(held) != wanted:
        raise DomainError(ErrorCode.RESERVATION_CONFLICT, _("This reference already holds other lines."),
                          {"reference": [_("Already used for another reservation.")]})
    return _reservation_info(res)


def _allocate(res, sku_id, quantity, codes, buyer_country, position, actor, now) -> list[ReservationLine]:
    for _attempt in range(RESERVE_ATTEMPTS):
        plan = allocation_plan(sku_id, quantity, codes, buyer_country)
        if not plan:
            available = sum(
                lv.available for lv in StockLevel.objects.filter(sku_id=sku_id, warehouse_id__in=codes, on_hand__gt=F("reserved"))
            )
            raise short_stock(position, available, quantity)
        savepoint = transaction.savepoint()
        _lock_levels(level.pk for level, _take in plan)
        if all(_move(level, K.RESERVE, reserved=take, reference=res.reference, actor=actor, now=now) for level, take in plan):
            transaction.savepoint_commit(savepoint)
            return [
                ReservationLine(reservation=res, level=level, sku_id=sku_id, warehouse_id=level.warehouse_id,
                                bond_status=level.bond_status, quantity=take)
                for level, take in plan
            ]
        # Another reservation took units between the plan and the update: forget the partial
        # takes (the savepoint also drops their row locks) and plan again from fresh figures.
        transaction.savepoint_rollback(savepoint)
    raise DomainError(ErrorCode.CONFLICT, _("Stock is changing too fast; try again."), {f"lines.{position}": [_("Try again.")]})


def _locked_reservation(reference: str) -> Reservation:
    res = Reservation.objects.select_for_update().filter(reference=str(reference or "")).first()
    if res is None:
        raise DomainError(ErrorCode.NOT_FOUND, _("No reservation with this reference."), {"reference": [_("Unknown reference.")]})
    return res


def _close(reference: str, status: str, *, actor, due_before=None) -> interface.Reservation:
    with transaction.atomic():
        res = _locked_reservation(reference)
        if res.status != Reservation.Status.ACTIVE:
            if res.status == Reservation.Status.SHIPPED and due_before is None:
                raise DomainError(ErrorCode.CONFLICT, _("The reservation has shipped; nothing to release."),
                                  {"reference": [_("Already shipped.")]})
            return _reservation_info(res)
        if due_before is not None and (res.expires_at is None or res.expires_at > due_before):
            return _reservation_info(res)  # kept or extended meanwhile
        check(res, status, actor=actor)  # before any unit moves
        now = timezone.now()
        kind_note = "expired" if status == Reservation.Status.EXPIRED else ""
        lines = list(res.lines.filter(shipped_at__isnull=True).select_related("level").order_by("sku_id", "level_id"))
        _lock_levels(line.level_id for line in lines)
        for line in lines:
            _must_move(line.level, K.UNRESERVE, reserved=-line.quantity, quantity=line.quantity,
                       reference=res.reference, actor=actor, now=now, note=kind_note)
        transition(res, status, actor=actor, reason=kind_note, extra_updates={"closed_at": now})
        open_ids = Fulfilment.objects.filter(reservation=res).exclude(
            status__in=[Fulfilment.Status.SHIPPED, Fulfilment.Status.CANCELLED]
        ).values_list("pk", "status")
        by_status = defaultdict(list)
        for pk, st in open_ids:
            by_status[st].append(pk)
        for st, ids in by_status.items():
            transition_batch(Fulfilment, ids, st, Fulfilment.Status.CANCELLED, actor=SYSTEM_ACTOR, reason=status)
    return _reservation_info(res)


def stock_release(*, reference: str, actor) -> interface.Reservation:
    """Return the unshipped units of ``reference``. Idempotent: a released or expired one is returned as is."""
    return _close(reference, Reservation.Status.RELEASED, actor=actor)


def reservations_expire(*, now=None, limit: int = 500) -> int:
    """Expire active reservations past their time (Celery beat, every minute); return how many."""
    now = now or timezone.now()
    # Uses index reservation_due_idx (partial on active).
    due = list(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=now)
        .order_by("expires_at").values_list("reference", flat=True)[:limit]
    )
    expired = 0
    for reference in due:
        # One transaction each: a reservation being shipped right now must not hold up the rest.
        if _close(reference, Reservation.Status.EXPIRED, actor=SYSTEM_ACTOR, due_before=now).status == Reservation.Status.EXPIRED:
            expired += 1
    return expired


_KEEP_SQL = "SELECT reference, status, buyer_country, lines FROM warehouses_stock_keep(%s)"  # migration 0010


def stock_keep(*, reference: str, actor) -> interface.Reservation:
    """Stop the expiry clock of an active reservation (the order is paid: units stay held).

    On PostgreSQL the usual case (an active reservation still on its clock) is one call of
    ``warehouses_stock_keep``: a conditional UPDATE, which takes the row's lock, returning what the
    reservation holds."""
    if connection.vendor == "postgresql":
        with sql_cursor() as cursor:
            cursor.execute(_KEEP_SQL, [str(reference or "")])
            row = cursor.fetchone()
        if row[0] is not None:
            lines = [interface.ReservationLine(sku_id=sku_id, warehouse=warehouse, bond_status=bond, quantity=qty, shipped=shipped)
                     for sku_id, warehouse, bond, qty, shipped in row[3] or []]
            return interface.Reservation(reference=row[0], status=row[1], buyer_country=row[2], expires_at=None, lines=lines)
    with transaction.atomic():
        res = _locked_reservation(reference)
        if res.status == Reservation.Status.ACTIVE and res.expires_at is not None:
            res.expires_at = None
            res.save(update_fields=["expires_at"])
    return _reservation_info(res)


def _in_bond_for_sale(line: ReservationLine, buyer_country: str) -> bool:
    """Whether ``line``'s units are bonded stock sold into their warehouse's own country: customs must
    release them from bond (:func:`stock_release_from_bond`) before they may be picked or shipped.
    Bonded units sold across a border leave the country in bond and need no release here."""
    return line.bond_status == BondStatus.BONDED and line.warehouse.country_id == buyer_country


def _refuse_in_bond(reference: str) -> DomainError:
    return DomainError(ErrorCode.CUSTOMS_NOT_CLEARED, _("Customs has not released these units from bond yet."),
                       {"reference": [_("Awaiting customs release.")]})


def _refuse_inactive(res: Reservation) -> DomainError:
    return DomainError(ErrorCode.CONFLICT, _("The reservation was %(status)s; its units are no longer held.")
                       % {"status": res.get_status_display()}, {"reference": [res.status]})


def stock_release_from_bond(*, reference: str, actor) -> interface.Reservation:
    """Customs released the buyer's parcel sold from bond: its reserved units leave bond now.

    Every unshipped line of the active reservation ``reference`` holding bonded units of a warehouse
    in the buyer's country becomes a ``release_from_bond`` pair (out of the bonded level: on hand and
    reserved -q; into the released level of the same warehouse and SKU: on hand and reserved +q),
    and the line then holds the released level. Levels are locked in (sku, level pk) order.

    Idempotent: a second call finds nothing bonded and writes nothing; a shipped reservation is
    returned as is. A released or expired reservation raises ``conflict`` (409), as
    :func:`stock_confirm_shipment` does. When the fulfilment simulator is on, fulfilments of the
    reference that were waiting for the release are woken up.
    """
    with transaction.atomic():
        res = _locked_reservation(reference)
        if res.status == Reservation.Status.SHIPPED:
            return _reservation_info(res)
        if res.status != Reservation.Status.ACTIVE:
            raise _refuse_inactive(res)
        lines = [
            ln for ln in res.lines.filter(shipped_at__isnull=True, bond_status=BondStatus.BONDED)
            .select_related("level", "warehouse").order_by("sku_id", "level_id")
            if _in_bond_for_sale(ln, res.buyer_country_id)
        ]
        if not lines:
            return _reservation_info(res)
        released = {ln.pk: _level_for(ln.warehouse_id, ln.sku_id, BondStatus.RELEASED) for ln in lines}
        _lock_levels([ln.level_id for ln in lines] + [lv.pk for lv in released.values()])
        now = timezone.now()
        for ln in lines:
            q = ln.quantity
            _must_move(ln.level, K.RELEASE_FROM_BOND, on_hand=-q, reserved=-q, quantity=-q, reference=res.reference,
                       actor=actor, now=now)
            _must_move(released[ln.pk], K.RELEASE_FROM_BOND, on_hand=q, reserved=q, quantity=q, reference=res.reference,
                       actor=actor, now=now)
            ln.level, ln.bond_status = released[ln.pk], BondStatus.RELEASED
        ReservationLine.objects.bulk_update(lines, ["level", "bond_status"])
        if settings.WAREHOUSES_FULFILMENT_SIMULATOR:
            from .fulfilment import _simulate_later  # the simulator sits above the stock it ships

            waiting = Fulfilment.objects.filter(reservation=res, status=Fulfilment.Status.REQUESTED,
                                                warehouse_id__in={ln.warehouse_id for ln in lines})
            for fulfilment in waiting:
                _simulate_later(fulfilment.pk, Fulfilment.Status.REQUESTED)
    return _reservation_info(res)


def stock_confirm_shipment(*, reference: str, actor, warehouse: str | None = None) -> interface.Reservation:
    """Turn the reserved units of ``reference`` (in ``warehouse``, or all) into ``ship`` movements.

    A unit still in bond that is sold into its warehouse's country never ships: ``customs_not_cleared``
    (409) until :func:`stock_release_from_bond` has run for ``reference``. Bonded units sold across a
    border and released units ship as they are. Idempotent: shipped lines stay shipped.
    """
    with transaction.atomic():
        res = _locked_reservation(reference)
        if res.status == Reservation.Status.SHIPPED:
            return _reservation_info(res)
        if res.status != Reservation.Status.ACTIVE:
            raise _refuse_inactive(res)
        lines = list(res.lines.filter(shipped_at__isnull=True).select_related("level", "warehouse").order_by("sku_id", "level_id"))
        if warehouse:
            lines = [line for line in lines if line.warehouse_id == warehouse]
        if not lines:
            return _reservation_info(res)
        if any(_in_bond_for_sale(ln, res.buyer_country_id) for ln in lines):
            raise _refuse_in_bond(reference)
        completes = not res.lines.filter(shipped_at__isnull=True).exclude(pk__in=[ln.pk for ln in lines]).exists()
        if completes:
            check(res, Reservation.Status.SHIPPED, actor=actor)  # before any unit moves
        _lock_levels(ln.level_id for ln in lines)
        now = timezone.now()
        for ln in lines:
            _must_move(ln.level, K.SHIP, on_hand=-ln.quantity, reserved=-ln.quantity, quantity=ln.quantity,
                       reference=res.reference, actor=actor, now=now)
        ReservationLine.objects.filter(pk__in=[ln.pk for ln in lines]).update(shipped_at=now)
        if completes:
            transition(res, Reservation.Status.SHIPPED, actor=actor, extra_updates={"closed_at": now})
    return _reservation_info(res)


def stock_return_shipment(*, reference: str, actor) -> int:
    """A shipped parcel of ``reference`` came back (customs refused it at the border): book its units
    back into the warehouses they shipped from, as released stock, with ``return`` movements.

    Returns the units booked. Idempotent per reference: once its units are back, a second call books
    nothing and returns 0 (the reservation row's lock makes concurrent calls wait for each other).
    Nothing shipped yet: 0. Unknown reference: ``not_found``.
    """
    with transaction.atomic():
        res = _locked_reservation(reference)
        if Movement.objects.filter(reference=res.reference, kind=K.RETURN).exists():
            return 0
        back: dict[tuple[str, int], int] = defaultdict(int)
        for warehouse_id, sku_id, qty in res.lines.filter(shipped_at__isnull=False).values_list("warehouse_id", "sku_id", "quantity"):
            back[(warehouse_id, sku_id)] += qty
        if not back:
            return 0
        levels = {key: _level_for(key[0], key[1], BondStatus.RELEASED) for key in back}
        _lock_levels(lv.pk for lv in levels.values())
        now = timezone.now()
        for key in sorted(back, key=lambda k: (k[1], levels[k].pk)):
            _must_move(levels[key], K.RETURN, on_hand=back[key], reference=res.reference, actor=actor, now=now,
                       note="back from the border")
    return sum(back.values())
