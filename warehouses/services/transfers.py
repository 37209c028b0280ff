"""Transfers between warehouses: units leave the source at once and arrive at the destination later."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode, field_error
from core.states import transition

from ..access import may_operate
from ..models import BondStatus, Sku, StockLevel, Transfer, TransferLine, Warehouse
from .ledger import (
    K,
    _bond_status,
    _check_quantity,
    _level_for,
    _lock_levels,
    _move,
    _must_move,
    _next_number,
    _operated_warehouse,
    _warehouse,
)


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
        _lock_levels(levels[key].pk for key in wanted if key in levels)
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
        lines = list(transfer.lines.order_by("sku_id", "id"))
        levels = [
            _level_for(warehouse.code, line.sku_id, line.arrival_bond_status if to == Transfer.Status.RECEIVED else line.bond_status)
            for line in lines
        ]
        _lock_levels(level.pk for level in levels)
        for line, level in zip(lines, levels, strict=True):
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
