"""Writes of the warehouses app: the stock ledger and everything that moves units.

Every change of a stock level goes through :func:`_move`: one conditional ``UPDATE`` of the level
row (the database refuses a negative level or an oversell: the ``WHERE`` clause and the check
constraints) and one append-only :class:`~warehouses.models.Movement` in the same transaction.
When several level rows are touched in one transaction they are touched in (sku, level pk) order,
so two transactions never wait on each other in opposite orders.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import STAFF, SYSTEM_ACTOR, company_ids, roles_of
from core.errors import DomainError, ErrorCode, field_error
from core.models import Company, Country, Place
from core.money import Money, check_currency
from core.states import check, transition, transition_batch
from core.tasks import enqueue

from .. import customs_link, interface
from ..access import may_operate
from ..gateways import carrier
from ..models import (
    BondStatus,
    Consignment,
    ConsignmentLine,
    Discrepancy,
    Fulfilment,
    Movement,
    Parcel,
    Reservation,
    ReservationLine,
    Sku,
    StockLevel,
    Transfer,
    TransferLine,
    Warehouse,
)

# Larger than any real line (a full 40' container of small parts); beyond it the input is a typo
# or an attack, and refusing it keeps sums far from integer overflow.
MAX_QUANTITY = 1_000_000
RESERVE_ATTEMPTS = 8

K = Movement.Kind


# --- helpers -----------------------------------------------------------------------------


def _actor_fields(actor) -> dict:
    if actor is SYSTEM_ACTOR or actor is None:
        return {"actor": None, "actor_label": "system"}
    return {"actor": actor, "actor_label": actor.get_username()}


def _is_staff(actor) -> bool:
    return actor is SYSTEM_ACTOR or STAFF in roles_of(actor)


def _check_quantity(value, field: str, *, allow_zero: bool = False, signed: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise field_error(field, _("Enter a whole number.")) from None
    low = -MAX_QUANTITY if signed else (0 if allow_zero else 1)
    if value < low or value > MAX_QUANTITY:
        raise field_error(field, _("Enter a quantity between %(low)s and %(high)s.") % {"low": low, "high": MAX_QUANTITY})
    if signed and value == 0:
        raise field_error(field, _("An adjustment of zero units changes nothing."))
    return value


def _warehouse(code, field: str = "warehouse") -> Warehouse:
    warehouse = Warehouse.objects.filter(code=str(code or "").upper(), is_active=True).first()
    if warehouse is None:
        raise DomainError(ErrorCode.UNKNOWN_WAREHOUSE, _("Unknown warehouse."), {field: [_("Unknown warehouse %(code)s.") % {"code": code}]})
    return warehouse


def _operated_warehouse(code, actor, field: str = "warehouse") -> Warehouse:
    warehouse = _warehouse(code, field)
    if not may_operate(actor, warehouse.code):
        # Another operator's warehouse does not exist for this actor: never disclose it.
        raise DomainError(ErrorCode.NOT_FOUND, _("Warehouse not found."), {field: [_("Unknown warehouse %(code)s.") % {"code": code}]})
    return warehouse


def _bond_status(value, field: str = "bond_status") -> str:
    if value not in BondStatus.values:
        raise field_error(field, _("Choose bonded or released."))
    return value


def _level_for(warehouse_id: str, sku_id: int, bond_status: str) -> StockLevel:
    """The level row of the key, created empty when missing (safe under concurrent creation)."""
    level = StockLevel.objects.filter(warehouse_id=warehouse_id, sku_id=sku_id, bond_status=bond_status).first()
    if level is None:
        StockLevel.objects.bulk_create(
            [StockLevel(warehouse_id=warehouse_id, sku_id=sku_id, bond_status=bond_status)], ignore_conflicts=True
        )
        level = StockLevel.objects.get(warehouse_id=warehouse_id, sku_id=sku_id, bond_status=bond_status)
    return level


def _move(level: StockLevel, kind: str, *, on_hand: int = 0, reserved: int = 0, quantity: int | None = None,
          reference: str = "", actor, now, reason: str = "", note: str = "") -> bool:
    """Apply one movement to ``level``; False (and nothing written) when the database refuses it.

    The ``WHERE`` clause states the invariants for the new values, so the check happens inside the
    row lock the ``UPDATE`` takes: two concurrent reservations of the last unit cannot both pass.
    """
    qs = StockLevel.objects.filter(pk=level.pk)
    if on_hand < 0:
        qs = qs.filter(on_hand__gte=-on_hand)
    if reserved < 0:
        qs = qs.filter(reserved__gte=-reserved)
    if reserved - on_hand > 0:  # available must cover what is taken: on_hand - reserved >= dr - dh
        qs = qs.filter(on_hand__gte=F("reserved") + (reserved - on_hand))
    updates = {"on_hand": F("on_hand") + on_hand, "reserved": F("reserved") + reserved, "updated_at": now}
    if on_hand > 0:
        updates["aged_since"] = Coalesce(F("aged_since"), Value(now))
    elif on_hand < 0:
        updates["aged_since"] = Case(When(on_hand=-on_hand, then=Value(None)), default=F("aged_since"))
    if qs.update(**updates) != 1:
        return False
    Movement.objects.create(
        warehouse_id=level.warehouse_id, sku_id=level.sku_id, bond_status=level.bond_status, kind=kind,
        quantity=quantity if quantity is not None else (on_hand or reserved), on_hand_delta=on_hand,
        reserved_delta=reserved, reason=reason, note=note[:500], reference=reference[:64], at=now,
        **_actor_fields(actor),
    )
    return True


def _must_move(level: StockLevel, kind: str, **kwargs) -> None:
    if not _move(level, kind, **kwargs):
        # Only reachable if the level and the reservation disagree: refuse rather than guess.
        raise DomainError(ErrorCode.CONFLICT, _("The stock level changed meanwhile; nothing was written."))


# --- SKUs --------------------------------------------------------------------------------


def sku_upsert(*, company_id, code, name, hs_code, origin_country, weight_g, actor,
               low_stock_threshold: int | None = None) -> Sku:
    """Create or update the SKU ``code`` of a company (the marketplace calls this per product)."""
    code = str(code or "").strip()
    name = str(name or "").strip()
    errors = {}
    if not code or len(code) > 64:
        errors["code"] = [_("Enter a code of 1 to 64 characters.")]
    if not name or len(name) > 255:
        errors["name"] = [_("Enter a name of 1 to 255 characters.")]
    hs_code = str(hs_code or "").strip().replace(".", "")
    if hs_code and not (hs_code.isdigit() and 6 <= len(hs_code) <= 10):
        errors["hs_code"] = [_("An HS code has 6 to 10 digits.")]
    if origin_country and not Country.objects.filter(iso2=str(origin_country).upper()).exists():
        errors["origin_country"] = [_("Unknown country.")]
    if isinstance(weight_g, bool) or not isinstance(weight_g, int) or not 0 <= weight_g <= 10_000_000:
        errors["weight_g"] = [_("Enter a weight in grams between 0 and 10,000,000.")]
    if not Company.objects.filter(pk=company_id).exists():
        errors["company"] = [_("Unknown company.")]
    if errors:
        raise DomainError(ErrorCode.VALIDATION, _("Invalid SKU."), errors)
    if not _is_staff(actor) and company_id not in company_ids(actor):
        raise field_error("company", _("You are not a member of this company."), ErrorCode.PERMISSION_DENIED)
    defaults = {"name": name, "hs_code": hs_code, "origin_country_id": str(origin_country).upper() if origin_country else None,
                "weight_g": weight_g}
    if low_stock_threshold is not None:
        defaults["low_stock_threshold"] = _check_quantity(low_stock_threshold, "low_stock_threshold", allow_zero=True)
    with transaction.atomic():
        try:
            with transaction.atomic():
                sku, _created = Sku.objects.update_or_create(company_id=company_id, code=code, defaults=defaults)
        except IntegrityError:  # created concurrently by another request: update that one
            sku, _created = Sku.objects.update_or_create(company_id=company_id, code=code, defaults=defaults)
    return sku


# --- reservations ------------------------------------------------------------------------


def _reservation_info(res: Reservation) -> interface.Reservation:
    lines = [
        interface.ReservationLine(sku_id=line.sku_id, warehouse=line.warehouse_id, bond_status=line.bond_status,
                                  quantity=line.quantity, shipped=line.shipped_at is not None)
        for line in res.lines.order_by("sku_id", "level_id")
    ]
    return interface.Reservation(reference=res.reference, status=res.status, buyer_country=res.buyer_country_id,
                                 expires_at=res.expires_at, lines=lines)


def _allocation_key(level: StockLevel, buyer_country: str):
    warehouse = level.warehouse
    domestic = warehouse.country_id == buyer_country
    return (0 if domestic else 1, 0 if level.bond_status == BondStatus.RELEASED else 1, warehouse.priority, warehouse.code)


def _plan(sku_id: int, quantity: int, warehouses: list[str], buyer_country: str) -> list[tuple[StockLevel, int]]:
    levels = (
        StockLevel.objects.filter(sku_id=sku_id, warehouse_id__in=warehouses, on_hand__gt=F("reserved"))
        .select_related("warehouse")
    )
    plan, remaining = [], quantity
    for level in sorted(levels, key=lambda lv: _allocation_key(lv, buyer_country)):
        take = min(level.available, remaining)
        plan.append((level, take))
        remaining -= take
        if remaining == 0:
            break
    return plan if remaining == 0 else []


def _parse_lines(lines, field: str = "lines") -> dict[int, int]:
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
    known = set(Sku.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    for i, line in enumerate(lines):
        if int(line[0]) not in known:
            raise DomainError(ErrorCode.UNKNOWN_SKU, _("Unknown SKU."), {f"{field}.{i}.sku": [_("Unknown SKU %(id)s.") % {"id": line[0]}]})
    return dict(wanted)


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
    reference = str(reference or "").strip()
    if not reference or len(reference) > 64:
        raise field_error("reference", _("Enter a reference of 1 to 64 characters."))
    wanted = _parse_lines(lines)
    codes = sorted(Warehouse.objects.filter(code__in=list(storefront_warehouses or []), is_active=True)
                   .values_list("code", flat=True))
    if not codes:
        raise DomainError(ErrorCode.UNKNOWN_WAREHOUSE, _("No active warehouse serves this storefront."),
                          {"storefront_warehouses": [_("No active warehouse.")]})
    buyer_country = str(buyer_country or "").upper()
    if not Country.objects.filter(iso2=buyer_country).exists():
        raise DomainError(ErrorCode.UNKNOWN_COUNTRY, _("Unknown country."), {"buyer_country": [_("Unknown country.")]})
    ttl = settings.WAREHOUSES_RESERVATION_TTL if ttl_seconds is None else ttl_seconds
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= 30 * 86400:
        raise field_error("ttl_seconds", _("Enter a lifetime between 1 second and 30 days."))
    positions = {int(line[0]): i for i, line in reversed(list(enumerate(lines)))}

    with transaction.atomic():
        now = timezone.now()
        try:
            with transaction.atomic():
                res = Reservation.objects.create(reference=reference, buyer_country_id=buyer_country,
                                                 expires_at=now + timedelta(seconds=ttl))
        except IntegrityError:
            return _existing_reservation(reference, wanted)
        rows = []
        for sku_id in sorted(wanted):
            rows += _allocate(res, sku_id, wanted[sku_id], codes, buyer_country, positions[sku_id], actor, now)
        ReservationLine.objects.bulk_create(rows)
    return _reservation_info(res)


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
        plan = _plan(sku_id, quantity, codes, buyer_country)
        if not plan:
            available = sum(
                lv.available for lv in StockLevel.objects.filter(sku_id=sku_id, warehouse_id__in=codes, on_hand__gt=F("reserved"))
            )
            raise DomainError(
                ErrorCode.INSUFFICIENT_STOCK, _("Not enough stock."),
                {f"lines.{position}": [_("Only %(available)s available, %(wanted)s wanted.") % {"available": available, "wanted": quantity}]},
            )
        savepoint = transaction.savepoint()
        plan.sort(key=lambda item: item[0].pk)
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
        now = timezone.now()
        kind_note = "expired" if status == Reservation.Status.EXPIRED else ""
        for line in res.lines.filter(shipped_at__isnull=True).select_related("level").order_by("sku_id", "level_id"):
            _must_move(line.level, K.UNRESERVE, reserved=-line.quantity, quantity=line.quantity,
                       reference=res.reference, actor=actor, now=now, note=kind_note)
        res.status = status
        res.closed_at = now
        res.save(update_fields=["status", "closed_at"])
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


def stock_keep(*, reference: str, actor) -> interface.Reservation:
    """Stop the expiry clock of an active reservation (the order is paid: units stay held)."""
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


def _lock_levels(level_ids) -> None:
    """Lock level rows in the documented (sku, level pk) order before writing any of them."""
    ids = sorted(set(level_ids))
    list(StockLevel.objects.select_for_update().filter(pk__in=ids).order_by("sku_id", "pk").values_list("pk", flat=True))


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
        _lock_levels(ln.level_id for ln in lines)
        now = timezone.now()
        for ln in lines:
            _must_move(ln.level, K.SHIP, on_hand=-ln.quantity, reserved=-ln.quantity, quantity=ln.quantity,
                       reference=res.reference, actor=actor, now=now)
        ReservationLine.objects.filter(pk__in=[ln.pk for ln in lines]).update(shipped_at=now)
        if not res.lines.filter(shipped_at__isnull=True).exists():
            res.status = Reservation.Status.SHIPPED
            res.closed_at = now
            res.save(update_fields=["status", "closed_at"])
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


# --- receipts and adjustments --------------------------------------------------------------


def stock_receive(*, warehouse: str, sku_id: int, quantity: int, bond_status: str, reference: str, actor,
                  note: str = "") -> Movement:
    """Book ``quantity`` units in (a consignment line, a return)."""
    wh = _operated_warehouse(warehouse, actor)
    quantity = _check_quantity(quantity, "quantity")
    bond_status = _bond_status(bond_status)
    if not Sku.objects.filter(pk=sku_id).exists():
        raise DomainError(ErrorCode.UNKNOWN_SKU, _("Unknown SKU."), {"sku": [_("Unknown SKU.")]})
    with transaction.atomic():
        level = _level_for(wh.code, sku_id, bond_status)
        _must_move(level, K.RECEIPT, on_hand=quantity, reference=reference, actor=actor, now=timezone.now(), note=note)
    return Movement.objects.filter(warehouse=wh, sku_id=sku_id, kind=K.RECEIPT).order_by("-id").first()


def stock_adjust(*, warehouse: str, sku_id, bond_status: str, quantity, reason: str, note: str = "", actor,
                 reference: str = "") -> Movement:
    """Correct a level by ``quantity`` (signed) with a reason; never below the reserved units."""
    wh = _operated_warehouse(warehouse, actor)
    quantity = _check_quantity(quantity, "quantity", signed=True)
    bond_status = _bond_status(bond_status)
    if reason not in Movement.Reason.values:
        raise field_error("reason", _("Choose a reason."))
    note = str(note or "").strip()
    if reason == Movement.Reason.OTHER and not note:
        raise field_error("note", _("Explain the adjustment."))
    if len(note) > 500:
        raise field_error("note", _("At most 500 characters."))
    try:
        sku = Sku.objects.get(pk=int(sku_id))
    except (Sku.DoesNotExist, TypeError, ValueError):
        raise DomainError(ErrorCode.UNKNOWN_SKU, _("Unknown SKU."), {"sku": [_("Unknown SKU.")]}) from None
    with transaction.atomic():
        level = StockLevel.objects.filter(warehouse=wh, sku=sku, bond_status=bond_status).first()
        if level is None and quantity < 0:
            raise DomainError(ErrorCode.INSUFFICIENT_STOCK, _("Not enough stock."), {"quantity": [_("Nothing on hand to remove.")]})
        level = level or _level_for(wh.code, sku.pk, bond_status)
        if not _move(level, K.ADJUST, on_hand=quantity, reason=reason, note=note, reference=reference, actor=actor,
                     now=timezone.now()):
            level.refresh_from_db()
            raise DomainError(ErrorCode.INSUFFICIENT_STOCK, _("Not enough stock."),
                              {"quantity": [_("Only %(n)s units are available to remove (reserved units stay).") % {"n": level.available}]})
    return Movement.objects.filter(warehouse=wh, sku=sku, kind=K.ADJUST).order_by("-id").first()


# --- transfers -------------------------------------------------------------------------------


def _next_number(model, prefix: str, obj) -> str:
    obj.number = f"{prefix}-{obj.pk:06d}"
    model.objects.filter(pk=obj.pk).update(number=obj.number)
    return obj.number


def transfer_create(*, source: str, destination: str, lines: list[tuple[int, str, int]], note: str = "", actor) -> Transfer:
    """Send units from ``source`` to ``destination``: ``transfer_out`` now, ``transfer_in`` on arrival.

    Units crossing into another country arrive bonded (not cleared there); within one country they
    keep their status. Nothing is created or lost: in transit = sum(out) - sum(in).
    """
    src = _operated_warehouse(source, actor, "source")
    dst = _warehouse(destination, "destination")
    if src.code == dst.code:
        raise field_error("destination", _("Choose another warehouse than the source."))
    if not isinstance(lines, list | tuple) or not lines:
        raise field_error("lines", _("Give at least one line."))
    wanted: dict[tuple[int, str], int] = {}
    for i, line in enumerate(lines):
        try:
            sku_id, bond, qty = line
            sku_id = int(sku_id)
        except (TypeError, ValueError):
            raise field_error(f"lines.{i}", _("A line is a SKU, a bond status and a quantity.")) from None
        _bond_status(bond, f"lines.{i}.bond_status")
        qty = _check_quantity(qty, f"lines.{i}.quantity")
        if (sku_id, bond) in wanted:
            raise field_error(f"lines.{i}.sku", _("This SKU is already on another line."))
        wanted[(sku_id, bond)] = qty
    known = set(Sku.objects.filter(pk__in=[k[0] for k in wanted]).values_list("pk", flat=True))
    for i, (sku_id, _bond) in enumerate(wanted):
        if sku_id not in known:
            raise DomainError(ErrorCode.UNKNOWN_SKU, _("Unknown SKU."), {f"lines.{i}.sku": [_("Unknown SKU.")]})
    same_country = src.country_id == dst.country_id
    with transaction.atomic():
        transfer = Transfer.objects.create(number="", source=src, destination=dst, note=str(note or "")[:500],
                                           created_by=None if actor is SYSTEM_ACTOR else actor)
        number = _next_number(Transfer, "TRF", transfer)
        now = timezone.now()
        levels = {
            (lv.sku_id, lv.bond_status): lv
            for lv in StockLevel.objects.filter(warehouse=src, sku_id__in=known)
        }
        positions = {key: i for i, key in enumerate(wanted)}
        for key in sorted(wanted, key=lambda k: (k[0], levels[k].pk if k in levels else 0)):
            sku_id, bond = key
            qty = wanted[key]
            level = levels.get(key)
            if level is None or not _move(level, K.TRANSFER_OUT, on_hand=-qty, quantity=qty, reference=number, actor=actor, now=now):
                available = level.available if level else 0
                if level:
                    level.refresh_from_db()
                    available = level.available
                raise DomainError(ErrorCode.INSUFFICIENT_STOCK, _("Not enough stock."),
                                  {f"lines.{positions[key]}.quantity": [_("Only %(n)s available.") % {"n": available}]})
            TransferLine.objects.create(transfer=transfer, sku_id=sku_id, bond_status=bond, quantity=qty,
                                        arrival_bond_status=bond if same_country else BondStatus.BONDED)
    return transfer


def _transfer_back(transfer: Transfer, to: str, *, actor, warehouse: Warehouse) -> Transfer:
    with transaction.atomic():
        transition(transfer, to, actor=actor, extra_updates={"closed_at": timezone.now()})
        now = timezone.now()
        for line in transfer.lines.order_by("sku_id"):
            bond = line.arrival_bond_status if to == Transfer.Status.RECEIVED else line.bond_status
            level = _level_for(warehouse.code, line.sku_id, bond)
            _must_move(level, K.TRANSFER_IN, on_hand=line.quantity, reference=transfer.number, actor=actor, now=now,
                       note="" if to == Transfer.Status.RECEIVED else "cancelled")
    return transfer


def transfer_receive(*, transfer: Transfer, actor) -> Transfer:
    """Book the units in at the destination (its operator, staff or the carrier simulator)."""
    if not may_operate(actor, transfer.destination_id):
        raise DomainError(ErrorCode.NOT_FOUND, _("Transfer not found."))
    return _transfer_back(transfer, Transfer.Status.RECEIVED, actor=actor, warehouse=transfer.destination)


def transfer_cancel(*, transfer: Transfer, actor) -> Transfer:
    """Put the units back into the source (the lorry never left)."""
    if not may_operate(actor, transfer.source_id):
        raise DomainError(ErrorCode.NOT_FOUND, _("Transfer not found."))
    return _transfer_back(transfer, Transfer.Status.CANCELLED, actor=actor, warehouse=transfer.source)


# --- inbound consignments --------------------------------------------------------------------


def _leg_mode(crossing: Place | None) -> str:
    if crossing is None:
        return "road"
    return "rail" if "rail" in crossing.name_en.lower() or "rail" in crossing.notes.lower()[:20] else "road"


def consignment_create(*, company_id: int, warehouse: str, origin: str, border_crossing: str | None,
                       lines: list[tuple], note: str = "", actor) -> Consignment:
    """A draft consignment of the company's SKUs to ``warehouse`` along origin → crossing → warehouse.

    ``lines`` are ``(sku_id, quantity)`` or ``(sku_id, quantity, declared_value)`` with the customs
    value of the whole line as :class:`~core.money.Money` (one currency for all lines). A draft may
    lack values; :func:`consignment_submit` requires them.
    """
    if not _is_staff(actor) and company_id not in company_ids(actor):
        raise field_error("company", _("You are not a member of this company."), ErrorCode.PERMISSION_DENIED)
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        raise field_error("company", _("Unknown company."))
    wh = _warehouse(warehouse)
    origin_place = Place.objects.filter(code=str(origin or "")).first()
    if origin_place is None:
        raise field_error("origin", _("Unknown place %(code)s.") % {"code": origin})
    if origin_place.code == wh.code:
        raise field_error("origin", _("The origin is the destination warehouse."))
    crossing = None
    origin_country = origin_place.country_id or (origin_place.countries.split(";")[0] if origin_place.countries else None)
    if border_crossing:
        crossing = Place.objects.filter(code=str(border_crossing), kind="border_crossing").first()
        if crossing is None:
            raise field_error("border_crossing", _("Unknown border crossing %(code)s.") % {"code": border_crossing})
        sides = set(crossing.countries.split(";"))
        if not {origin_country, wh.country_id} & sides:
            raise field_error("border_crossing", _("This crossing is on neither the origin's nor the warehouse's border."))
    elif origin_country != wh.country_id:
        raise field_error("border_crossing", _("A route into another country names its border crossing."))
    if not isinstance(lines, list | tuple) or not lines:
        raise field_error("lines", _("Give at least one line."))
    parsed: list[tuple[int, int, Money | None]] = []
    seen = set()
    currency = None
    for i, line in enumerate(lines):
        try:
            sku_id, qty, *rest = line
            sku_id = int(sku_id)
        except (TypeError, ValueError):
            raise field_error(f"lines.{i}", _("A line is a SKU and a quantity.")) from None
        if len(rest) > 1:
            raise field_error(f"lines.{i}", _("A line is a SKU, a quantity and a declared value."))
        qty = _check_quantity(qty, f"lines.{i}.quantity")
        value = _check_value(rest[0] if rest else None, f"lines.{i}.declared_value")
        if value is not None:
            currency = currency or value.currency
            if value.currency != currency:
                # One declaration has one invoice currency.
                raise field_error(f"lines.{i}.declared_value", _("Declare every line in %(currency)s.") % {"currency": currency},
                                  ErrorCode.CURRENCY_MISMATCH)
        if sku_id in seen:
            raise field_error(f"lines.{i}.sku", _("This SKU is already on another line."))
        seen.add(sku_id)
        parsed.append((sku_id, qty, value))
    own = set(Sku.objects.filter(pk__in=seen, company_id=company_id).values_list("pk", flat=True))
    for i, (sku_id, _qty, _value) in enumerate(parsed):
        if sku_id not in own:
            # Another seller's SKU is reported exactly like a missing one.
            raise DomainError(ErrorCode.UNKNOWN_SKU, _("Unknown SKU."), {f"lines.{i}.sku": [_("Not one of your company's SKUs.")]})
    note = str(note or "").strip()
    if len(note) > 500:
        raise field_error("note", _("At most 500 characters."))
    stops = [origin_place.code] + ([crossing.code] if crossing else []) + [wh.code]
    mode = _leg_mode(crossing)
    legs = [{"from": a, "to": b, "mode": mode} for a, b in zip(stops, stops[1:], strict=False)]
    with transaction.atomic():
        consignment = Consignment.objects.create(
            number="", company=company, warehouse=wh, origin=origin_place, border_crossing=crossing, legs=legs,
            note=note, created_by=None if actor is SYSTEM_ACTOR else actor,
        )
        _next_number(Consignment, "CSG", consignment)
        ConsignmentLine.objects.bulk_create(
            [ConsignmentLine(consignment=consignment, sku_id=sku_id, expected_qty=qty,
                             declared_value_minor=value.minor if value else None, currency=value.currency if value else "")
             for sku_id, qty, value in parsed]
        )
    return consignment


MAX_DECLARED_MINOR = 10**13  # 100 billion in major units: far above any consignment, far below overflow


def _check_value(value, field: str) -> Money | None:
    if value is None:
        return None
    if not isinstance(value, Money):
        try:
            value = Money.from_api(value, field)
        except DomainError as exc:
            raise field_error(field, exc.message, exc.code) from None
    check_currency(value.currency, field)
    if not 0 < value.minor <= MAX_DECLARED_MINOR:
        raise field_error(field, _("Declare a value above zero."))
    return value


def _check_declarable(consignment: Consignment) -> None:
    """What customs needs before the goods leave: a value per line and, across a border, the SKU's
    HS code and weight. Every missing item is named, so the seller fixes them in one go."""
    crossing = customs_link.crosses_border(consignment)
    errors = {}
    for i, line in enumerate(consignment.lines.select_related("sku").order_by("id")):
        if line.declared_value_minor is None:
            errors[f"lines.{i}.declared_value"] = [_("Declare the value of this line for customs.")]
        if crossing and not line.sku.hs_code:
            errors[f"lines.{i}.sku"] = [_("SKU %(code)s has no HS code.") % {"code": line.sku.code}]
        elif crossing and not line.sku.weight_g:
            errors[f"lines.{i}.sku"] = [_("SKU %(code)s has no weight.") % {"code": line.sku.code}]
    if errors:
        raise DomainError(ErrorCode.VALIDATION, _("Complete the consignment for customs before submitting it."), errors)


def _check_seller(consignment: Consignment, actor):
    if not _is_staff(actor) and consignment.company_id not in company_ids(actor):
        raise DomainError(ErrorCode.NOT_FOUND, _("Consignment not found."))


def consignment_submit(*, consignment: Consignment, actor) -> Consignment:
    """Hand the consignment to the carrier; the transit simulator takes it from there."""
    from ..tasks import advance_consignment

    _check_seller(consignment, actor)
    _check_declarable(consignment)
    with transaction.atomic():
        transition(consignment, Consignment.Status.SUBMITTED, actor=actor, place=consignment.origin_id,
                   extra_updates={"submitted_at": timezone.now()})
        _schedule_step(advance_consignment, consignment, Consignment.Status.SUBMITTED)
    return consignment


def consignment_cancel(*, consignment: Consignment, actor, reason: str = "") -> Consignment:
    _check_seller(consignment, actor)
    transition(consignment, Consignment.Status.CANCELLED, actor=actor, reason=str(reason or "")[:500])
    return consignment


def _schedule_step(task, consignment: Consignment, status: str) -> None:
    delay = settings.WAREHOUSES_TRANSIT_DELAYS.get(status)
    if delay is None:  # a step configured as manual
        return
    enqueue(task, consignment.pk, str(status), countdown=delay)


_NEXT = {
    Consignment.Status.SUBMITTED: (Consignment.Status.IN_TRANSIT, "origin"),
    Consignment.Status.IN_TRANSIT: (Consignment.Status.AT_BORDER, "border"),
    Consignment.Status.AT_BORDER: (Consignment.Status.CUSTOMS, "warehouse"),
}


def consignment_advance(*, consignment: Consignment, expected: str, actor) -> Consignment:
    """Move the consignment one automatic step on (the carrier reports); nothing when it has moved on.

    On arrival in customs the entry is declared to the customs app; its callback admits the
    consignment for receipt once released. A consignment that crosses no border is cleared at once.
    """
    from ..tasks import advance_consignment

    if consignment.status != expected or expected not in _NEXT:
        return consignment
    target, where = _NEXT[expected]
    place = {"origin": consignment.origin_id, "border": consignment.border_crossing_id or "",
             "warehouse": consignment.warehouse_id}[where]
    with transaction.atomic():
        transition(consignment, target, actor=actor, place=place)
        if target == Consignment.Status.CUSTOMS:
            _declare(consignment)
        else:
            _schedule_step(advance_consignment, consignment, target)
    return consignment


def _declare(consignment: Consignment) -> None:
    if not customs_link.crosses_border(consignment):
        Consignment.objects.filter(pk=consignment.pk).update(customs_status="not_required", cleared_at=timezone.now())
        return
    try:
        with transaction.atomic():
            info = customs_link.declare_inbound(consignment)
    except DomainError as exc:
        # Customs refused the declaration's data: the consignment waits in customs with the reason
        # shown, rather than the carrier's step failing and retrying forever.
        detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.fields.items())
        Consignment.objects.filter(pk=consignment.pk).update(
            customs_status="declaration_refused", customs_note=f"{exc.message} {detail}".strip()[:500])
        return
    Consignment.objects.filter(pk=consignment.pk).update(customs_declaration_id=info.id, customs_status=info.status)


def consignment_customs_changed(*, reference: str, declaration_id: int | None = None) -> Consignment | None:
    """Customs reports a change of the declaration ``reference``: record its current status.

    Reads the declaration's state from customs rather than trusting the reported status, so
    callbacks delivered twice or out of order settle on the truth. ``released`` admits the
    consignment for receipt; ``rejected`` records customs' reason.
    """
    consignment_id = customs_link.consignment_id_of(reference)
    if consignment_id is None:
        return None
    info = customs_link.declaration(reference)
    if info is None:
        return None
    with transaction.atomic():
        consignment = Consignment.objects.select_for_update().filter(pk=consignment_id).first()
        if consignment is None:
            return None
        consignment.customs_status = info.status
        consignment.customs_declaration_id = info.id
        fields = ["customs_status", "customs_declaration_id"]
        if info.status == "released" and consignment.cleared_at is None:
            consignment.cleared_at = timezone.now()
            fields.append("cleared_at")
        if info.status == "rejected":
            consignment.customs_note = (info.rejection_reason or "")[:500]
            fields.append("customs_note")
        consignment.save(update_fields=fields)
    return consignment


def consignment_receive(*, consignment: Consignment, counts: dict[int, int], notes: dict[int, str] | None = None,
                        actor) -> Consignment:
    """Count each line in: counted units become bonded (or released) stock, differences discrepancies.

    Units arrive ``bonded`` when the seller's country differs from the warehouse's (not cleared for
    free circulation there), ``released`` when both are in the same country.
    """
    if not may_operate(actor, consignment.warehouse_id):
        raise DomainError(ErrorCode.NOT_FOUND, _("Consignment not found."))
    notes = notes or {}
    lines = list(consignment.lines.order_by("sku_id"))
    errors, counted = {}, {}
    for i, line in enumerate(sorted(lines, key=lambda ln: ln.pk)):
        raw = counts.get(line.pk, counts.get(str(line.pk)))
        if raw is None or raw == "":
            errors[f"lines.{i}.counted"] = [_("Enter the counted quantity.")]
            continue
        try:
            counted[line.pk] = _check_quantity(raw, f"lines.{i}.counted", allow_zero=True)
        except DomainError as exc:
            errors.update(exc.fields)
    if errors:
        raise DomainError(ErrorCode.VALIDATION, _("Count every line."), errors)
    with transaction.atomic():
        current = Consignment.objects.select_for_update().get(pk=consignment.pk)
        if current.status == Consignment.Status.CUSTOMS and current.cleared_at is None:
            raise DomainError(ErrorCode.CUSTOMS_NOT_CLEARED, _("Customs has not cleared this consignment yet."),
                              {"status": [current.customs_status or _("awaiting customs")]})
        now = timezone.now()
        transition(consignment, Consignment.Status.RECEIVED, actor=actor, place=consignment.warehouse_id,
                   extra_updates={"received_at": now, "received_by": None if actor is SYSTEM_ACTOR else actor})
        bond = BondStatus.BONDED if current.company.country_id != consignment.warehouse.country_id else BondStatus.RELEASED
        for line in lines:
            qty = counted[line.pk]
            line.counted_qty = qty
            level = _level_for(consignment.warehouse_id, line.sku_id, bond)
            if qty:
                _must_move(level, K.RECEIPT, on_hand=qty, reference=consignment.number, actor=actor, now=now)
            if qty != line.expected_qty:
                diff = qty - line.expected_qty
                note = str(notes.get(line.pk, notes.get(str(line.pk), "")) or "")[:500]
                Movement.objects.create(
                    warehouse_id=consignment.warehouse_id, sku_id=line.sku_id, bond_status=bond, kind=K.DISCREPANCY,
                    quantity=diff, on_hand_delta=0, reserved_delta=0, reference=consignment.number, note=note, at=now,
                    **_actor_fields(actor),
                )
                Discrepancy.objects.create(
                    consignment=consignment, line=line, sku_id=line.sku_id, expected_qty=line.expected_qty,
                    counted_qty=qty, note=note,
                    kind=Discrepancy.Kind.SHORTAGE if diff < 0 else Discrepancy.Kind.OVERAGE,
                )
        ConsignmentLine.objects.bulk_update(lines, ["counted_qty"])
    return consignment


# --- pick, pack, ship ------------------------------------------------------------------------------


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


def fulfilment_ship(*, fulfilment: Fulfilment, actor) -> Fulfilment:
    """Hand the packed parcels to the carrier, ship the reserved units, then tell the caller.

    Units still in bond for a sale into the warehouse's country: ``customs_not_cleared`` (409), and
    nothing moves (see :func:`stock_confirm_shipment`)."""
    _check_operator(fulfilment, actor)
    with transaction.atomic():
        now = timezone.now()
        transition(fulfilment, Fulfilment.Status.SHIPPED, actor=actor, place=fulfilment.warehouse_id,
                   extra_updates={"shipped_at": now, "moved_at": now})
        stock_confirm_shipment(reference=fulfilment.reference, warehouse=fulfilment.warehouse_id, actor=actor)
        parcels = list(fulfilment.parcels.all())
        for parcel in parcels:
            handover = carrier.hand_over(warehouse=fulfilment.warehouse_id, reference=fulfilment.reference,
                                         weight_g=parcel.weight_g)
            parcel.carrier, parcel.tracking_number, parcel.handed_over_at = handover.carrier, handover.tracking_number, now
        Parcel.objects.bulk_update(parcels, ["carrier", "tracking_number", "handed_over_at"])
        _notify(fulfilment, Fulfilment.Status.SHIPPED, [p.tracking_number for p in parcels])
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


_SIMULATED_STEPS = {
    Fulfilment.Status.REQUESTED: Fulfilment.Status.PICKING,
    Fulfilment.Status.PICKING: Fulfilment.Status.PACKED,
    Fulfilment.Status.PACKED: Fulfilment.Status.SHIPPED,
}


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
        if fulfilment is None or fulfilment.status not in _SIMULATED_STEPS:
            return None
        target = _SIMULATED_STEPS[fulfilment.status]
        try:
            with transaction.atomic():
                if target == Fulfilment.Status.PICKING:
                    fulfilment_pick(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
                elif target == Fulfilment.Status.PACKED:
                    parcel_pack(fulfilment=fulfilment, parcels=_simulated_parcels(fulfilment), actor=SYSTEM_ACTOR)
                else:
                    fulfilment_ship(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
                if target != Fulfilment.Status.SHIPPED:
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
        Fulfilment.objects.filter(status__in=list(_SIMULATED_STEPS))
        .annotate(since=Coalesce("moved_at", "created_at"))
        .filter(since__lte=before)
        .exclude(Exists(in_bond))
        .order_by("since").values_list("pk", flat=True)[:limit]
    )
    for pk in stalled:
        _simulate_later(pk, "", countdown=0)
    return len(stalled)
