"""Customs writes and computations: quotes, per-buyer allowances, declarations and their clearance.

Nothing here knows about orders: the checkout and the consignments call these functions with plain
data and a reference of their own.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import BROKER, STAFF, SYSTEM_ACTOR, company_ids, has_role
from core.errors import DomainError, ErrorCode
from core.money import Money, check_currency
from core.states import transition
from core.tasks import enqueue

from . import rules, validation
from .interface import DeclarationEvent, DeclarationInfo, DeclarationLineInput, ParcelInput, Quote, QuoteLine
from .models import AllowanceUse, Declaration, DeclarationDocument, DeclarationLine
from .rules import data as rule_data
from .selectors import info
from .states import ACTION_LABELS, BROKER_ACTIONS
from .states import DeclarationStatus as S

log = logging.getLogger(__name__)

CHANNELS = ("courier", "post", "b2b", "domestic")


# --- quotes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    hs_code: str
    description: str
    quantity: int
    value: Money  # whole line, goods currency
    weight_kg: Decimal  # whole line
    origin_country: str


def _allowance_used(buyer_id: int, exclude_reference: str = ""):
    def used(jurisdiction: str, period_key: str, currency: str) -> Money:
        total = AllowanceUse.objects.filter(
            buyer_id=buyer_id, jurisdiction=jurisdiction, period_key=period_key, currency=currency, released_at__isnull=True,
        ).exclude(reference=exclude_reference).aggregate(total=Sum("amount_minor"))["total"]
        return Money(total or 0, currency)

    return used


def _warehouse_country(code: str | None) -> str | None:
    if not code:
        return None
    from core.models import Place

    place = Place.objects.filter(code=code).first()
    if place is None:
        message = _("Unknown warehouse %(code)s.") % {"code": repr(code)}
        raise DomainError(ErrorCode.VALIDATION, message, {"source_warehouse": [message]})
    return place.country_id


def _check_rate_known(regime: str, destination: str, lines: list[_Line], on: Date) -> None:
    """Where the regime charges by HS line, a code outside the reference list needs a staff rate."""
    if regime not in ("cn_cbec_9610", "cn_cbec_1210", "release_from_bond"):
        return
    country = "CN" if regime.startswith("cn_") else destination
    for i, line in enumerate(lines):
        if rule_data.hs_code(line.hs_code) is None and rule_data.tariff_line(line.hs_code, country, on) is None:
            raise DomainError(ErrorCode.INVALID_HS_CODE,
                              _("HS code %(code)s is not in the reference list and has no staff-entered rate for %(country)s.")
                              % {"code": line.hs_code, "country": country},
                              {f"lines.{i}.hs_code": [_("Not in the reference list: staff must enter a rate for it first.")]})


def _evaluate(*, regime: str | None, origin: str, destination: str, channel: str, lines: list[_Line], shipping: Money,
              insurance: Money, on: Date, buyer_id: int | None, source_warehouse: str | None, own_reference: str = ""):
    goods_currency = lines[0].value.currency
    if regime is None:
        regime = rules.select_regime(origin=origin, destination=destination, channel=channel,
                                     source_warehouse_country=_warehouse_country(source_warehouse))
    _check_rate_known(regime, destination, lines, on)
    from core.models import Country

    tax_currency = Country.objects.values_list("currency_id", flat=True).get(iso2=destination)
    ctx = rules.Context(date=on, origin=origin, destination=destination, channel=channel, source_warehouse=source_warehouse,
                        currency=tax_currency, lines=[], shipping=Money.zero(tax_currency), insurance=Money.zero(tax_currency),
                        buyer_id=buyer_id, allowance_used=_allowance_used(buyer_id, own_reference) if buyer_id else None)
    to_tax = ctx.rate(goods_currency, tax_currency).rate
    ctx.lines = [
        rules.Line(i, line.hs_code, line.description, line.quantity, line.value.convert(to_tax, tax_currency), line.weight_kg,
                   line.origin_country)
        for i, line in enumerate(lines)
    ]
    ctx.shipping = shipping.convert(to_tax, tax_currency)
    ctx.insurance = insurance.convert(to_tax, tax_currency)
    return ctx, rules.compute(regime, ctx)


def _check_lines(lines, origin: str, *, value_attr: str) -> list[_Line]:
    if not isinstance(lines, list | tuple) or not lines:
        raise DomainError(ErrorCode.VALIDATION, _("At least one line is needed."), {"lines": [_("At least one line is needed.")]})
    checked = []
    currency = None
    for i, line in enumerate(lines):
        f = f"lines.{i}"
        hs = validation.hs_code(line.hs_code, f"{f}.hs_code")
        qty = validation.quantity(line.quantity, f"{f}.quantity")
        price = validation.amount(getattr(line, value_attr), f"{f}.{value_attr}")
        currency = currency or price.currency
        validation.same_currency(price, currency, f"{f}.{value_attr}")
        weight = validation.weight(line.weight_kg, f"{f}.weight_kg")
        line_origin = validation.country(line.origin_country, f"{f}.origin_country") if line.origin_country else origin
        if value_attr == "unit_price":
            value, weight = price.times(qty), weight * qty
        else:
            value = price
        checked.append(_Line(hs, (line.description or "")[:300], qty, value, weight, line_origin))
    return checked


def quote(*, origin_country: str, destination_country: str, currency: str, lines: list[QuoteLine], shipping: Money,
          insurance: Money, date: Date | None = None, buyer_id: int | None = None, source_warehouse: str | None = None,
          channel: str = "courier") -> Quote:
    """The landed cost of ``lines`` delivered to a buyer in ``destination_country``, in ``currency``.

    Amounts are exact: each tax line is computed and rounded in the importing country's currency,
    then the totals are converted to the buyer's currency (and the storefront's) at recorded rates.
    """
    origin = validation.country(origin_country, "origin_country")
    destination = validation.country(destination_country, "destination_country")
    buyer_currency = check_currency(currency, "currency")
    if channel not in CHANNELS:
        raise DomainError(ErrorCode.VALIDATION, _("Unknown channel %(channel)s.") % {"channel": repr(channel)},
                          {"channel": [_("One of %(choices)s.") % {"choices": ", ".join(CHANNELS)}]})
    checked = _check_lines(lines, origin, value_attr="unit_price")
    goods_currency = checked[0].value.currency
    shipping = validation.same_currency(validation.amount(shipping, "shipping"), goods_currency, "shipping")
    insurance = validation.same_currency(validation.amount(insurance, "insurance"), goods_currency, "insurance")
    on = date or timezone.localdate()
    ctx, outcome = _evaluate(regime=None, origin=origin, destination=destination, channel=channel, lines=checked,
                             shipping=shipping, insurance=insurance, on=on, buyer_id=buyer_id, source_warehouse=source_warehouse)
    parts = {
        "duty": outcome.total("duty", "parcel_payment"), "vat": outcome.total("vat"),
        "excise": outcome.total("excise"), "fees": outcome.total("fee"),
    }
    to_buyer = ctx.rate(ctx.currency, buyer_currency).rate
    to_store = ctx.rate(ctx.currency, goods_currency).rate
    in_buyer = {k: v.convert(to_buyer, buyer_currency) for k, v in parts.items()}
    taxes_buyer = sum(in_buyer.values(), Money.zero(buyer_currency))
    taxes_store = sum((v.convert(to_store, goods_currency) for v in parts.values()), Money.zero(goods_currency))
    goods = sum((line.value for line in checked), Money.zero(goods_currency))
    store_to_buyer = ctx.rate(goods_currency, buyer_currency).rate
    goods_b, shipping_b, insurance_b = (m.convert(store_to_buyer, buyer_currency) for m in (goods, shipping, insurance))
    return Quote(
        date=on, regime=outcome.regime, currency=buyer_currency, tax_currency=ctx.currency,
        goods=goods_b, shipping=shipping_b, insurance=insurance_b,
        customs_value=outcome.customs_value.convert(to_buyer, buyer_currency),
        duty=in_buyer["duty"], vat=in_buyer["vat"], excise=in_buyer["excise"], fees=in_buyer["fees"],
        taxes_total=taxes_buyer, landed_cost=goods_b + shipping_b + insurance_b + taxes_buyer,
        landed_cost_storefront=goods + shipping + insurance + taxes_store,
        fx=list(ctx.fx), breakdown=outcome.items, allowance=outcome.allowance, warnings=list(ctx.warnings),
        usage=outcome.usage,
    )


# --- allowances that span orders ----------------------------------------------------------------


def allowance_record(*, buyer_id: int, reference: str, quote, actor) -> AllowanceUse | None:
    """Book what an order paid under ``quote`` takes from the buyer's cross-order limits.

    Idempotent per reference. The buyer's row is locked so that two orders paid at once cannot both
    fit in the last of a yearly limit. ``quote`` is a :class:`Quote` or its ``to_api()`` dict.
    """
    if isinstance(quote, Quote):
        usage, allowance = quote.usage, quote.allowance
        if usage is None:
            return None
        jurisdiction, key, amount = usage.jurisdiction, usage.period_key, usage.amount
    else:
        allowance = (quote or {}).get("allowance")
        if not allowance:
            return None
        jurisdiction, key = allowance["jurisdiction"], allowance["period"]
        amount = Money.from_api(allowance["this_order"], "quote")
    if not reference:
        raise DomainError(ErrorCode.VALIDATION, _("A reference is needed."), {"reference": [_("Required.")]})
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=buyer_id).exists()
        existing = AllowanceUse.objects.filter(reference=reference, jurisdiction=jurisdiction).first()
        if existing is not None:
            return existing
        if allowance and jurisdiction == "CN":
            limit = Money.from_api(allowance["limit"], "quote")
            used = _allowance_used(buyer_id)(jurisdiction, key, limit.currency)
            if used + amount > limit:
                raise DomainError(ErrorCode.LIMIT_EXCEEDED,
                                  _("This order would take the buyer past the %(limit)s yearly limit.")
                                  % {"limit": rules.money_text(limit)},
                                  {"buyer": [_("%(left)s left this year.")
                                             % {"left": rules.money_text(rules.excess_of(limit, used))}]})
        return AllowanceUse.objects.create(buyer_id=buyer_id, reference=reference, jurisdiction=jurisdiction,
                                           period_key=key, amount_minor=amount.minor, currency=amount.currency)


def allowance_release(*, reference: str, actor) -> int:
    """Give back what a cancelled order took from the buyer's limits. Idempotent."""
    return AllowanceUse.objects.filter(reference=reference, released_at__isnull=True).update(released_at=timezone.now())


def allowance_restore(*, reference: str, amount: Money, actor) -> int:
    """Give back part of what an order took from the buyer's limits: units returned within China's
    CBEC window count as never imported. Returns the minor units restored (never below zero)."""
    with transaction.atomic():
        rows = list(AllowanceUse.objects.select_for_update().filter(reference=reference, released_at__isnull=True,
                                                                    currency=amount.currency))
        restored = 0
        for row in rows:
            take = min(row.amount_minor, amount.minor - restored)
            if take > 0:
                AllowanceUse.objects.filter(pk=row.pk).update(amount_minor=row.amount_minor - take)
                restored += take
    return restored


# --- declarations -------------------------------------------------------------------------------

_TASK_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _payer(payer) -> tuple[str, int | None]:
    if payer is None:
        return "", None
    if isinstance(payer, tuple | list) and len(payer) == 2:
        kind, pk = payer
    else:
        kind = getattr(payer, "kind", None)
        pk = getattr(payer, "id", None) or getattr(payer, "pk", None)
        if kind is None:
            kind, pk = ("company", payer.company_id) if getattr(payer, "company_id", None) else ("user", getattr(payer, "user_id", None))
    kind = getattr(kind, "value", kind)
    if kind not in ("company", "user") or not isinstance(pk, int):
        raise DomainError(ErrorCode.VALIDATION, _("The payer is a company or a user."), {"payer": [_("A company or a user.")]})
    return kind, pk


def _assessment(declaration: Declaration, lines: list[_Line], on: Date) -> dict:
    # A parcel is assessed under the regime of the buyer's quote (CBEC 1210 from the Lanzhou bond...);
    # the buyer's allowance counts every other order, not this one (booked when it was paid).
    regime = {"import": "customs_warehouse", "release_from_bond": "release_from_bond"}.get(declaration.kind) or declaration.regime or None
    currency = lines[0].value.currency
    freight = Money(declaration.freight_minor, currency)
    ctx, outcome = _evaluate(regime=regime, origin=lines[0].origin_country, destination=declaration.importer_country,
                             channel="courier", lines=lines, shipping=freight, insurance=Money.zero(currency),
                             on=on, buyer_id=declaration.buyer_id, source_warehouse=None, own_reference=declaration.reference)
    return {
        "regime": outcome.regime, "currency": ctx.currency, "customs_value_minor": outcome.customs_value.minor,
        "duty_minor": outcome.total("duty", "parcel_payment").minor, "vat_minor": outcome.total("vat").minor,
        "excise_minor": outcome.total("excise").minor, "fees_minor": outcome.total("fee").minor,
        "breakdown": [item.to_api() for item in outcome.items],
        "warnings": list(ctx.warnings) + [f"FX {r.base}/{r.quote} {r.rate} as of {r.as_of}" for r in ctx.fx],
    }


def _stored_lines(declaration: Declaration) -> list[_Line]:
    return [_Line(line.hs_code, line.description, line.quantity, Money(line.value_minor, line.currency), line.weight_kg,
                  line.origin_country) for line in declaration.lines.all()]


def declaration_create(*, kind: str, reference: str, importer_country: str, lines: list[DeclarationLineInput],
                       declared_weight_kg, recorded_weight_kg=None, payer=None, callback_task: str | None = None,
                       actor, buyer_id: int | None = None, date: Date | None = None,
                       parcel: ParcelInput | None = None) -> DeclarationInfo:
    """A draft declaration with its lines and the duties the rules engine computes for them.

    A buyer's parcel (``kind="parcel"``) comes with ``parcel``: the quote's regime, the duties the
    buyer prepaid into escrow under ``reference``, and the recipient; customs takes its duties from
    that escrow on release. Declared once per reference: the same call again returns the existing
    declaration.
    """
    if kind not in Declaration.Kind.values:
        raise DomainError(ErrorCode.VALIDATION, _("Unknown kind %(kind)s.") % {"kind": repr(kind)},
                          {"kind": [_("One of %(choices)s.") % {"choices": ", ".join(Declaration.Kind.values)}]})
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        raise DomainError(ErrorCode.VALIDATION, _("A reference of 1 to 100 characters is needed."),
                          {"reference": [_("1 to 100 characters.")]})
    existing = Declaration.objects.filter(reference=reference).first()
    if existing is not None:
        if existing.kind != kind:
            raise DomainError(ErrorCode.CONFLICT, _("Reference %(reference)s is already declared as %(kind)s.")
                              % {"reference": reference, "kind": existing.kind}, {"reference": [_("Already declared.")]})
        return info(existing)
    country = validation.country(importer_country, "importer_country")
    if country not in (*rules.CENTRAL_ASIA, "CN"):
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED, _("No customs rules for %(country)s.") % {"country": country},
                          {"importer_country": [_("Not supported.")]})
    checked = _check_lines(lines, country, value_attr="value")
    declared = validation.weight(declared_weight_kg, "declared_weight_kg")
    recorded = validation.weight(recorded_weight_kg, "recorded_weight_kg") if recorded_weight_kg not in (None, "") else None
    if callback_task and not _TASK_NAME.match(callback_task):
        raise DomainError(ErrorCode.VALIDATION, _("callback_task is a Celery task name such as app.verb."),
                          {"callback_task": [_("Not a task name.")]})
    payer_kind, payer_id = _payer(payer)
    extra = {}
    if kind == Declaration.Kind.PARCEL:
        extra = _parcel_fields(parcel, country)
        payer_kind, payer_id = "escrow", None
    on = date or timezone.localdate()
    draft = Declaration(kind=kind, reference=reference, importer_country=country, buyer_id=buyer_id,
                        regime=extra.get("regime", ""), freight_minor=extra.get("freight_minor", 0))
    assessment = _assessment(draft, checked, on)
    try:
        with transaction.atomic():
            declaration = Declaration.objects.create(
                kind=kind, reference=reference, importer_country=country, declared_weight_kg=declared,
                recorded_weight_kg=recorded, payer_kind=payer_kind, payer_id=payer_id, buyer_id=buyer_id,
                callback_task=callback_task or "", created_by=None if actor is SYSTEM_ACTOR else actor,
                **{**assessment, **{k: v for k, v in extra.items() if k != "regime"}},
            )
            DeclarationLine.objects.bulk_create([
                DeclarationLine(declaration=declaration, position=i + 1, hs_code=line.hs_code, description=line.description,
                                quantity=line.quantity, weight_kg=line.weight_kg, value_minor=line.value.minor,
                                currency=line.value.currency, origin_country=line.origin_country)
                for i, line in enumerate(checked)
            ])
    except IntegrityError:
        # Two creates of one reference at once: the first wins, the second answers with it.
        existing = Declaration.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return info(existing)
    return info(declaration)


def _parcel_fields(parcel: ParcelInput | None, country: str) -> dict:
    from core import crypto, identity

    if parcel is None:
        raise DomainError(ErrorCode.VALIDATION, _("A parcel declaration needs the regime, the prepaid duties and the recipient."),
                          {"parcel": [_("Required for a parcel.")]})
    prepaid = parcel.prepaid
    if not isinstance(prepaid, Money) or prepaid.minor < 0:
        raise DomainError(ErrorCode.INVALID_AMOUNT, _("The prepaid duties are zero or more."), {"parcel.prepaid": [_("Zero or more.")]})
    id_number = parcel.recipient_id or ""
    if identity.needs_id(country):
        id_number = identity.validate_id(country, id_number)
    freight = parcel.freight.minor if isinstance(parcel.freight, Money) else 0
    return {
        "regime": parcel.regime[:40], "prepaid_minor": prepaid.minor, "freight_minor": freight, "recipient_name": (parcel.recipient_name or "")[:150],
        "recipient_id_encrypted": crypto.encrypt(id_number) if id_number else "",
        "recipient_id_masked": identity.mask(id_number) if id_number else "",
    }


def _notify(declaration: Declaration, status: str) -> None:
    if declaration.callback_task:
        name = declaration.callback_task
        event = DeclarationEvent(declaration_id=declaration.pk, reference=declaration.reference, status=status)
        transaction.on_commit(lambda: current_app.send_task(name, args=event.task_args()))


def _move(declaration: Declaration, to: str, *, actor, reason: str = "", payload: dict | None = None,
          extra: dict | None = None) -> None:
    transition(declaration, to, actor=actor, reason=reason, payload=payload, extra_updates=extra)
    _notify(declaration, to)


def _load(declaration_id: int) -> Declaration:
    declaration = Declaration.objects.filter(pk=declaration_id).first()
    if declaration is None:
        raise DomainError(ErrorCode.NOT_FOUND, _("Declaration not found."))
    return declaration


def _tunable(name: str):
    return settings.CUSTOMS_SIMULATOR[name]


def declaration_submit(*, declaration_id: int, actor) -> DeclarationInfo:
    """Send a draft to the customs authority (through the gateway, on Celery)."""
    from . import tasks

    with transaction.atomic():
        declaration = _load(declaration_id)
        _move(declaration, S.SUBMITTED, actor=actor)
        enqueue(tasks.gateway_submit, declaration.pk, countdown=_tunable("register_delay"))
    return info(declaration)


def gateway_register(*, declaration_id: int) -> bool:
    """The gateway step after submission: the authority registers the declaration. Safe to repeat."""
    from . import gateways, tasks

    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().filter(pk=declaration_id).first()
        if declaration is None or declaration.status != S.SUBMITTED:
            return False
        result = gateways.get(declaration.gateway).submit(gateways.snapshot(declaration))
        _move(declaration, S.REGISTERED, actor=SYSTEM_ACTOR, payload={"registration_number": result.registration_number},
              extra={"registration_number": result.registration_number, "registered_on": timezone.localdate()})
        enqueue(tasks.gateway_poll, declaration.pk, countdown=_tunable("channel_delay"))
    return True


def gateway_poll(*, declaration_id: int) -> bool:
    """Ask the gateway what happened: the risk channel of a registered declaration, or the release
    of a paid one. Safe to repeat: a declaration no longer waiting on the gateway is left alone."""
    from . import gateways, tasks

    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().filter(pk=declaration_id).first()
        if declaration is None or declaration.status not in (S.REGISTERED, S.PAID):
            return False
        result = gateways.get(declaration.gateway).poll(gateways.snapshot(declaration))
        if declaration.status == S.REGISTERED and result.status in (S.GREEN, S.YELLOW, S.RED):
            _move(declaration, result.status, actor=SYSTEM_ACTOR, reason=result.reason, payload={"rules": result.rules},
                  extra={"channel": result.status})
            if result.status == S.GREEN:
                _assess(declaration, actor=SYSTEM_ACTOR, reason="Green channel: assessed automatically")
        elif declaration.status == S.REGISTERED and result.status == S.REJECTED:
            _move(declaration, S.REJECTED, actor=SYSTEM_ACTOR, reason=result.reason, payload={"rules": result.rules},
                  extra={"rejection_reason": result.reason})
        elif declaration.status == S.PAID and result.status == S.RELEASED:
            _move(declaration, S.RELEASED, actor=SYSTEM_ACTOR, reason=result.reason)
        elif result.status == "pending":
            enqueue(tasks.gateway_poll, declaration.pk, countdown=_tunable("channel_delay"))
    return True


def _assess(declaration: Declaration, *, actor, reason: str = "") -> None:
    """Compute the duties with the rules in force on the registration date and move to assessed;
    a declaration with nothing to pay goes on to paid, one with a payer has its payment booked."""
    from . import tasks

    on = declaration.registered_on or timezone.localdate()
    assessment = _assessment(declaration, _stored_lines(declaration), on)
    _move(declaration, S.ASSESSED, actor=actor, reason=reason,
          payload={"duties": Money(sum(assessment[k] for k in ("duty_minor", "vat_minor", "excise_minor", "fees_minor")),
                                   assessment["currency"]).to_api()},
          extra=assessment)
    declaration.refresh_from_db()
    if declaration.total_minor == 0 and not declaration.prepaid_minor:
        _move(declaration, S.PAID, actor=SYSTEM_ACTOR, reason="Nothing to pay")
        enqueue(tasks.gateway_poll, declaration.pk, countdown=_tunable("release_delay"))
    elif declaration.payer_kind:
        enqueue(tasks.declaration_pay, declaration.pk)


def book_duty_payment(declaration: Declaration) -> str:
    """Book the duty through the payments app; returns its reference.

    The one place customs calls payments (``payments.services.charge``).
    """
    from payments import services as payments_services
    from payments.interface import Owner

    if declaration.payer_kind == "escrow":
        result = payments_services.escrow_pay_duty(
            reference=declaration.reference, assessed=Money(declaration.total_minor, declaration.currency),
            prepaid=Money(declaration.prepaid_minor, declaration.currency), actor=SYSTEM_ACTOR)
        return f"txn:{result.id}" if result is not None else ""
    charge = payments_services.charge
    if declaration.payer_kind == "company":
        owner = Owner.company(declaration.payer_id)
    else:
        owner = Owner.user(get_user_model().objects.get(pk=declaration.payer_id))
    reference = f"declaration:{declaration.pk}"
    result = charge(payer=owner, amount=Money(declaration.total_minor, declaration.currency), kind="duty", reference=reference,
                    idempotency_key=f"customs-duty-{declaration.pk}", actor=SYSTEM_ACTOR)
    return f"txn:{result.id}"


def declaration_pay(*, declaration_id: int) -> bool:
    """Charge the payer for an assessed declaration. Idempotent: the charge carries a fixed
    idempotency key, and a declaration already paid is left alone."""
    from . import tasks

    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().filter(pk=declaration_id).first()
        if declaration is None or declaration.status != S.ASSESSED or not declaration.payer_kind:
            return False
        payment_reference = book_duty_payment(declaration)
        _move(declaration, S.PAID, actor=SYSTEM_ACTOR, payload={"payment": payment_reference},
              extra={"payment_reference": payment_reference})
        enqueue(tasks.gateway_poll, declaration.pk, countdown=_tunable("release_delay"))
    return True


def declaration_act(*, declaration_id: int, action: str, actor, reason: str = "") -> DeclarationInfo:
    """A broker's action on a declaration (request documents, send to inspection, assess, mark
    inspected, mark paid, release, reject with a reason)."""
    from . import tasks

    if action not in BROKER_ACTIONS:
        raise DomainError(ErrorCode.VALIDATION, _("Unknown action %(action)s.") % {"action": repr(action)},
                          {"action": [_("One of %(choices)s.") % {"choices": ", ".join(BROKER_ACTIONS)}]})
    target, needs_reason = BROKER_ACTIONS[action]
    reason = (reason or "").strip()
    if needs_reason and not reason:
        raise DomainError(ErrorCode.VALIDATION, _("Give the reason for the rejection."), {"reason": [_("A reason is required.")]})
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().filter(pk=declaration_id).first()
        if declaration is None:
            raise DomainError(ErrorCode.NOT_FOUND, _("Declaration not found."))
        found = declaration.machine.find(declaration.status, target)
        if found is not None and found.name != action:
            status = declaration.get_status_display()
            raise DomainError(ErrorCode.ILLEGAL_TRANSITION,
                              _("%(action)s does not apply to a declaration in %(status)s.")
                              % {"action": ACTION_LABELS.get(action, action), "status": status},
                              {"action": [_("Not available in %(status)s.") % {"status": status}]})
        if target == S.ASSESSED:
            if not declaration.machine.allows(declaration.status, target, actor):
                transition(declaration, target, actor=actor)  # raises the precise error
            _assess(declaration, actor=actor, reason=reason)
        elif target == S.REJECTED:
            _move(declaration, target, actor=actor, reason=reason, extra={"rejection_reason": reason})
        elif target in (S.YELLOW, S.RED):
            _move(declaration, target, actor=actor, reason=reason, extra={"channel": target})
        else:
            _move(declaration, target, actor=actor, reason=reason)
            if target == S.PAID:
                enqueue(tasks.gateway_poll, declaration.pk, countdown=_tunable("release_delay"))
    return info(declaration)


# --- documents -------------------------------------------------------------------------------------

_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


def _sniff(head: bytes) -> tuple[str, str] | None:
    return next(((ctype, ext) for magic, ctype, ext in _SIGNATURES if head.startswith(magic)), None)


def document_upload(*, declaration_id: int, kind: str, file, actor) -> DeclarationDocument:
    """Attach a document (PDF, PNG or JPEG, up to the configured size) to a declaration.

    The type is read from the content, never the name; images are checked to decode.
    """
    if kind not in DeclarationDocument.Kind.values:
        raise DomainError(ErrorCode.VALIDATION, _("Unknown document kind %(kind)s.") % {"kind": repr(kind)},
                          {"kind": [_("One of %(choices)s.") % {"choices": ", ".join(DeclarationDocument.Kind.values)}]})
    if file is None:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("Attach a file."), {"file": [_("A file is required.")]})
    limit = settings.CUSTOMS_DOCUMENT_MAX_BYTES
    if file.size > limit:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The file is over %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
                          {"file": [_("At most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}]})
    content = file.read(limit + 1)
    if not content:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The file is empty."), {"file": [_("The file is empty.")]})
    if len(content) > limit:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The file is too large."), {"file": [_("Too large.")]})
    sniffed = _sniff(content[:16])
    if sniffed is None:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("Documents must be PDF, PNG or JPEG files."),
                          {"file": [_("PDF, PNG or JPEG only.")]})
    content_type, ext = sniffed
    if content_type.startswith("image/"):
        _check_image(content)
    elif b"%%EOF" not in content[-2048:]:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The PDF is truncated."), {"file": [_("The PDF is incomplete.")]})
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().filter(pk=declaration_id).first()
        if declaration is None:
            raise DomainError(ErrorCode.NOT_FOUND, _("Declaration not found."))
        if declaration.status in (S.RELEASED, S.REJECTED):
            raise DomainError(ErrorCode.CONFLICT, _("This declaration is closed: no more documents."),
                              {"file": [_("The declaration is closed.")]})
        doc = DeclarationDocument(declaration=declaration, kind=kind, original_name=(getattr(file, "name", "") or "document")[-200:],
                                  content_type=content_type, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                                  extension=ext, uploaded_by=None if actor is SYSTEM_ACTOR else actor)
        doc.file.save(f"{doc.sha256[:16]}{ext}", ContentFile(content), save=False)
        doc.save()
    return doc


def _check_image(content: bytes) -> None:
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.width * image.height > settings.CUSTOMS_DOCUMENT_MAX_PIXELS:
                raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The image is too large."), {"file": [_("Too many pixels.")]})
            image.verify()
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many types for a broken file; all mean the same to the user
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The image cannot be read."),
                          {"file": [_("Broken or truncated image.")]}) from None


def may_act(user) -> bool:
    return has_role(user, BROKER) or has_role(user, STAFF)


def sees_payer(user, declaration: Declaration) -> bool:
    if declaration.payer_kind == "company":
        return declaration.payer_id in company_ids(user)
    return declaration.payer_kind == "user" and declaration.payer_id == getattr(user, "pk", None)
