"""Inbound consignments: a seller's stock on its way to a warehouse, through customs when it
crosses a border, counted in on arrival.

Two machines move a consignment (:mod:`warehouses.states`): its road (``status``: the seller submits,
the carrier's steps, the operator receives) and its customs clearance (``customs_status``, which
follows customs' declaration and is written only by :func:`_follow_customs`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import SYSTEM_ACTOR, company_ids
from core.errors import DomainError, ErrorCode, field_error
from core.models import Company, Place
from core.money import Money, check_currency
from core.states import actor_fields, transition
from core.tasks import enqueue
from customs.states import DeclarationStatus

from .. import customs_link, routes
from ..access import may_operate
from ..models import BondStatus, Consignment, ConsignmentCustoms, ConsignmentLine, Discrepancy, Movement, Sku
from ..states import DECLARATION_REFUSED, NOT_REQUIRED, TRANSIT
from .ledger import K, _check_quantity, _is_staff, _level_for, _lock_levels, _must_move, _next_number, _warehouse


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
    # The route's legs and modes from the one table of routes (orders' parcels use it too).
    route = routes.consignment_legs(origin=origin_place.code, origin_country=origin_country, warehouse=wh.code,
                                    warehouse_country=wh.country_id, crossing=crossing.code if crossing else "")
    legs = [{"from": leg.origin, "to": leg.destination, "mode": leg.mode} for leg in route]
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


def _step_place(consignment: Consignment, target: str) -> str:
    """Where the carrier's step to ``target`` happens: leaving the origin, at the crossing, at the warehouse."""
    return {
        Consignment.Status.IN_TRANSIT: consignment.origin_id,
        Consignment.Status.AT_BORDER: consignment.border_crossing_id or "",
        Consignment.Status.CUSTOMS: consignment.warehouse_id,
    }[target]


def consignment_advance(*, consignment: Consignment, expected: str, actor) -> Consignment:
    """Move the consignment one automatic step on (the carrier reports); nothing when it has moved on.

    On arrival in customs the entry is declared to the customs app; its callback admits the
    consignment for receipt once released. A consignment that crosses no border is cleared at once.
    """
    from ..tasks import advance_consignment

    # The carrier's next step, as the machine declares it (None past the last one).
    target = Consignment.machine.next_named(expected, TRANSIT, consignment)
    if consignment.status != expected or target is None:
        return consignment
    with transaction.atomic():
        transition(consignment, target, actor=actor, place=_step_place(consignment, target))
        if target == Consignment.Status.CUSTOMS:
            _declare(consignment)
        else:
            _schedule_step(advance_consignment, consignment, target)
    return consignment


def _follow_customs(consignment: Consignment, to: str, **extra) -> bool:
    """Move the consignment's customs clearance to ``to`` as the system, with the ``extra`` columns in
    the same ``UPDATE``; the caller holds the consignment's row lock. False, and nothing written, when
    the clearance is there already or further on (a late or repeated report: the later one stands).
    ``released`` stamps ``cleared_at``: the operator may count the consignment in."""
    machine = ConsignmentCustoms.machine
    current = Consignment.objects.filter(pk=consignment.pk).values_list(machine.field, flat=True).get()
    if machine.find(current, to) is None:
        return False
    if to == DeclarationStatus.RELEASED:
        extra.setdefault("cleared_at", timezone.now())
    clearance = ConsignmentCustoms(pk=consignment.pk)  # the same row, under the clearance's machine
    transition(clearance, to, actor=SYSTEM_ACTOR, place=consignment.warehouse_id, extra_updates=extra)
    for name in (machine.field, *extra):
        setattr(consignment, name, getattr(clearance, name))
    return True


def _declare(consignment: Consignment) -> None:
    if not customs_link.crosses_border(consignment):
        _follow_customs(consignment, NOT_REQUIRED, cleared_at=timezone.now())
        return
    try:
        with transaction.atomic():
            info = customs_link.declare_inbound(consignment)
    except DomainError as exc:
        # Customs refused the declaration's data: the consignment waits in customs with the reason
        # shown, rather than the carrier's step failing and retrying forever.
        detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.fields.items())
        _follow_customs(consignment, DECLARATION_REFUSED, customs_note=f"{exc.message} {detail}".strip()[:500])
        return
    _follow_customs(consignment, info.status, customs_declaration_id=info.id)


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
        extra = {"customs_declaration_id": info.id}
        if info.status == DeclarationStatus.REJECTED:
            extra["customs_note"] = (info.rejection_reason or "")[:500]
        if not _follow_customs(consignment, info.status, **extra) and consignment.customs_declaration_id != info.id:
            Consignment.objects.filter(pk=consignment.pk).update(customs_declaration_id=info.id)
            consignment.customs_declaration_id = info.id
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
                              {"status": [current.customs_clearance if current.customs_status else _("awaiting customs")]})
        now = timezone.now()
        transition(consignment, Consignment.Status.RECEIVED, actor=actor, place=consignment.warehouse_id,
                   extra_updates={"received_at": now, "received_by": None if actor is SYSTEM_ACTOR else actor})
        bond = BondStatus.BONDED if current.company.country_id != consignment.warehouse.country_id else BondStatus.RELEASED
        levels = [_level_for(consignment.warehouse_id, line.sku_id, bond) for line in lines]
        _lock_levels(level.pk for level, line in zip(levels, lines, strict=True) if counted[line.pk])
        for line, level in zip(lines, levels, strict=True):
            qty = counted[line.pk]
            line.counted_qty = qty
            if qty:
                _must_move(level, K.RECEIPT, on_hand=qty, reference=consignment.number, actor=actor, now=now)
            if qty != line.expected_qty:
                diff = qty - line.expected_qty
                note = str(notes.get(line.pk, notes.get(str(line.pk), "")) or "")[:500]
                Movement.objects.create(
                    warehouse_id=consignment.warehouse_id, sku_id=line.sku_id, bond_status=bond, kind=K.DISCREPANCY,
                    quantity=diff, on_hand_delta=0, reserved_delta=0, reference=consignment.number, note=note, at=now,
                    **actor_fields(actor),
                )
                Discrepancy.objects.create(
                    consignment=consignment, line=line, sku_id=line.sku_id, expected_qty=line.expected_qty,
                    counted_qty=qty, note=note,
                    kind=Discrepancy.Kind.SHORTAGE if diff < 0 else Discrepancy.Kind.OVERAGE,
                )
        ConsignmentLine.objects.bulk_update(lines, ["counted_qty"])
    return consignment
