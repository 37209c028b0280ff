"""The stock ledger: the one way a stock level changes, SKUs, receipts and adjustments.

Every change of a stock level goes through :func:`_move`: one conditional ``UPDATE`` of the level
row (the database refuses a negative level or an oversell: the ``WHERE`` clause and the check
constraints) and one append-only :class:`~warehouses.models.Movement` in the same transaction.
A transaction that writes several level rows locks them first, all in one order, with
:func:`_lock_levels`: (sku, level pk). Two transactions then never wait on each other in opposite
orders, whatever the order of their lines.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import STAFF, SYSTEM_ACTOR, company_ids, roles_of, visible
from core.errors import DomainError, ErrorCode, field_error
from core.models import Company, Country
from core.states import actor_fields

from ..access import may_operate
from ..models import BondStatus, Movement, Sku, StockLevel, Warehouse

# Larger than any real line (a full 40' container of small parts); beyond it the input is a typo
# or an attack, and refusing it keeps sums far from integer overflow.
MAX_QUANTITY = 1_000_000

K = Movement.Kind


# --- helpers -----------------------------------------------------------------------------


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


def _apply(level: StockLevel, *, on_hand: int, reserved: int, now) -> bool:
    """Add ``on_hand`` and ``reserved`` to ``level`` in one conditional UPDATE whose ``WHERE``
    states the invariants for the new values; False (nothing written) when they would break."""
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
    return qs.update(**updates) == 1


def _move(level: StockLevel, kind: str, *, on_hand: int = 0, reserved: int = 0, quantity: int | None = None,
          reference: str = "", actor, now, reason: str = "", note: str = "") -> bool:
    """Apply one movement to ``level``; False (and nothing written) when the database refuses it.

    The ``WHERE`` clause states the invariants for the new values, so the check happens inside the
    row lock the ``UPDATE`` takes: two concurrent reservations of the last unit cannot both pass.
    """
    if not _apply(level, on_hand=on_hand, reserved=reserved, now=now):
        return False
    Movement.objects.create(
        warehouse_id=level.warehouse_id, sku_id=level.sku_id, bond_status=level.bond_status, kind=kind,
        quantity=quantity if quantity is not None else (on_hand or reserved), on_hand_delta=on_hand,
        reserved_delta=reserved, reason=reason, note=note[:500], reference=reference[:64], at=now,
        **actor_fields(actor),
    )
    return True


def _must_move(level: StockLevel, kind: str, **kwargs) -> None:
    if not _move(level, kind, **kwargs):
        # Only reachable if the level and the reservation disagree: refuse rather than guess.
        raise DomainError(ErrorCode.CONFLICT, _("The stock level changed meanwhile; nothing was written."))


def _next_number(model, prefix: str, obj) -> str:
    obj.number = f"{prefix}-{obj.pk:06d}"
    model.objects.filter(pk=obj.pk).update(number=obj.number)
    return obj.number


def _lock_levels(level_ids) -> None:
    """Lock the level rows ``level_ids`` in the one order every writer of several levels uses,
    (sku, level pk), before writing any of them. One row needs no order: its ``UPDATE`` locks it."""
    ids = set(level_ids)
    if len(ids) > 1:
        # PostgreSQL sorts below the row locks: the rows are locked in this order.
        list(StockLevel.objects.select_for_update().filter(pk__in=ids).order_by("sku_id", "pk").values_list("pk", flat=True))


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


def sku_upsert_many(*, company_id: int, items: list[dict], actor) -> dict[str, int]:
    """Create or update many SKUs of one company in a few statements (a catalogue import): each item
    is ``{"code", "name", "hs_code", "origin_country", "weight_g"}``, already checked by the caller
    as :func:`sku_upsert` would. Only rows that differ are written. Returns code -> SKU id."""
    if not _is_staff(actor) and company_id not in company_ids(actor):
        raise field_error("company", _("You are not a member of this company."), ErrorCode.PERMISSION_DENIED)
    wanted = {str(i["code"]).strip(): i for i in items}
    fields = ("name", "hs_code", "origin_country_id", "weight_g")
    with transaction.atomic():
        existing = {s.code: s for s in Sku.objects.filter(company_id=company_id, code__in=list(wanted)).only(
            "id", "code", *fields)}
        changed, new = [], []
        for code, item in wanted.items():
            values = {"name": str(item["name"])[:255], "hs_code": item["hs_code"],
                      "origin_country_id": item["origin_country"], "weight_g": item["weight_g"]}
            sku = existing.get(code)
            if sku is None:
                new.append(Sku(company_id=company_id, code=code, **values))
            elif any(getattr(sku, f) != v for f, v in values.items()):
                for f, v in values.items():
                    setattr(sku, f, v)
                changed.append(sku)
        if changed:
            Sku.objects.bulk_update(changed, list(fields))
        if new:
            Sku.objects.bulk_create(new)
    return {s.code: s.pk for s in [*existing.values(), *new]}


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
        # Among the SKUs the actor may see (an operator: those stocked in its warehouses): another
        # seller's SKU that never came here is as unknown as one that does not exist.
        sku = visible(actor, Sku.objects.all()).get(pk=int(sku_id))
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
