"""Units a buyer sent back after delivery: booked into the warehouse they left.

Restocked units come back as stock that can be sold again (into bond when customs refunded the tax,
released otherwise); damaged units are booked in and written off at once, so the ledger shows both
the return and the loss.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode, field_error

from ..models import BondStatus, Movement, Sku
from .ledger import K, _bond_status, _check_quantity, _level_for, _lock_levels, _must_move, _operated_warehouse


def stock_receive_return(*, reference: str, warehouse: str, lines, bond_status: str, actor) -> int:
    """Book the returned units of ``reference``: ``lines`` are (sku_id, restocked, damaged). Each unit
    comes in with a ``return`` movement; the damaged ones leave again as an ``adjust`` (damaged).
    Idempotent per reference: a second call books nothing and returns 0. Returns the units booked in."""
    wh = _operated_warehouse(warehouse, actor)
    bond_status = _bond_status(bond_status)
    reference = str(reference or "")[:64]
    if not reference:
        raise field_error("reference", _("A reference is needed."))
    wanted: dict[int, tuple[int, int]] = {}
    for i, line in enumerate(lines or []):
        try:
            sku_id, restocked, damaged = line
        except (TypeError, ValueError):
            raise field_error(f"lines.{i}", _("Give the SKU, the units restocked and the units damaged.")) from None
        restocked = _check_quantity(restocked, f"lines.{i}.restocked", allow_zero=True)
        damaged = _check_quantity(damaged, f"lines.{i}.damaged", allow_zero=True)
        before = wanted.get(sku_id, (0, 0))
        wanted[sku_id] = (before[0] + restocked, before[1] + damaged)
    if not wanted or not any(r + d for r, d in wanted.values()):
        raise field_error("lines", _("Nothing to book in."))
    if Sku.objects.filter(pk__in=wanted).count() != len(wanted):
        raise DomainError(ErrorCode.UNKNOWN_SKU, _("Unknown SKU."), {"lines": [_("Unknown SKU.")]})
    with transaction.atomic():
        levels = {sku_id: _level_for(wh.code, sku_id, bond_status) for sku_id in wanted}
        damaged_levels = {sku_id: _level_for(wh.code, sku_id, BondStatus.RELEASED)
                          for sku_id, (_r, d) in wanted.items() if d}
        _lock_levels([lv.pk for lv in levels.values()] + [lv.pk for lv in damaged_levels.values()])
        if Movement.objects.filter(reference=reference, kind=K.RETURN).exists():
            return 0
        now = timezone.now()
        booked = 0
        for sku_id in sorted(wanted):
            restocked, damaged = wanted[sku_id]
            if restocked:
                _must_move(levels[sku_id], K.RETURN, on_hand=restocked, reference=reference, actor=actor, now=now,
                           note="returned by the buyer")
            if damaged:
                level = damaged_levels[sku_id]
                _must_move(level, K.RETURN, on_hand=damaged, reference=reference, actor=actor, now=now,
                           note="returned damaged")
                _must_move(level, K.ADJUST, on_hand=-damaged, reason=Movement.Reason.DAMAGED, reference=reference,
                           actor=actor, now=now, note="returned damaged: written off")
            booked += restocked + damaged
    return booked
