"""customs services: quotes."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode
from core.money import Money, check_currency

from .. import rules, validation
from ..interface import Quote, QuoteLine
from ..models import AllowanceUse
from ..rules import data as rule_data

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


# The allowances read for a batch (:func:`allowances_read`): buyer id -> their unreleased uses.
_READ: ContextVar[dict[int, list[tuple]] | None] = ContextVar("customs_allowances_read", default=None)


@contextmanager
def allowances_read(buyer_ids):
    """Inside the block, what the buyers ``buyer_ids`` have used of their cross-order limits is
    answered from one query made here, not one per assessment: a batch of parcels (filed, or
    assessed on the green channel) reads it once. The block writes no allowance: the uses read are
    those an assessment would read at once (every unreleased use but the parcel's own)."""
    ids = sorted({int(pk) for pk in buyer_ids if pk})
    read: dict[int, list[tuple]] = {pk: [] for pk in ids}
    if ids:
        for buyer, jurisdiction, key, currency, reference, amount in AllowanceUse.objects.filter(
                buyer_id__in=ids, released_at__isnull=True).values_list(
                "buyer_id", "jurisdiction", "period_key", "currency", "reference", "amount_minor"):
            read[buyer].append((jurisdiction, key, currency, reference, amount))
    token = _READ.set({**(_READ.get() or {}), **read})
    try:
        yield
    finally:
        _READ.reset(token)


def _allowance_used(buyer_id: int, exclude_reference: str = ""):
    def used(jurisdiction: str, period_key: str, currency: str) -> Money:
        read = _READ.get()
        if read is not None and buyer_id in read:
            return Money(sum(amount for j, key, c, reference, amount in read[buyer_id]
                             if (j, key, c) == (jurisdiction, period_key, currency) and reference != exclude_reference),
                         currency)
        total = AllowanceUse.objects.filter(
            buyer_id=buyer_id, jurisdiction=jurisdiction, period_key=period_key, currency=currency, released_at__isnull=True,
        ).exclude(reference=exclude_reference).aggregate(total=Sum("amount_minor"))["total"]
        return Money(total or 0, currency)

    return used


def _warehouse_country(code: str | None) -> str | None:
    if not code:
        return None
    known, country = rule_data.place_country(code)
    if not known:
        message = _("Unknown warehouse %(code)s.") % {"code": repr(code)}
        raise DomainError(ErrorCode.VALIDATION, message, {"source_warehouse": [message]})
    return country


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
    tax_currency = rule_data.country_currency(destination)
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
          channel: str = "courier", rules_version: int | None = None) -> Quote:
    """The landed cost of ``lines`` delivered to a buyer in ``destination_country``, in ``currency``.

    Amounts are exact: each tax line is computed and rounded in the importing country's currency,
    then the totals are converted to the buyer's currency (and the storefront's) at recorded rates.
    The rule tables are read through the process's memo (:func:`customs.rules.data.cached`): one
    query for the rules' version, then none for rows read before under it; none at all when the
    caller read ``rules_version`` with a statement of its own (``customs.selectors.RULES_VERSION_SQL``).
    """
    with rule_data.cached(rules_version):
        return _quote(origin_country=origin_country, destination_country=destination_country, currency=currency,
                      lines=lines, shipping=shipping, insurance=insurance, date=date, buyer_id=buyer_id,
                      source_warehouse=source_warehouse, channel=channel)


def _quote(*, origin_country, destination_country, currency, lines, shipping, insurance, date, buyer_id,
           source_warehouse, channel) -> Quote:
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
