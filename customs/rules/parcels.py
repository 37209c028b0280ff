"""The personal-parcel threshold shared by the Central Asian jurisdictions: how much of a parcel's
goods value is duty-free (per parcel, or what is left of a per-person allowance for the period) and
how much is the excess that pays."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_noop

from core.money import Money
from core.texts import Text, fx_rate, number, percent, text

from . import Context, Item, Usage, convert_decimal, excess_of, period_key, unverified
from .data import first_source

PERIODS = {
    "year": gettext_noop("Duty-free up to %(limit)s per person per calendar year: %(left)s left (%(left_local)s at %(rate)s)"),
    "quarter": gettext_noop("Duty-free up to %(limit)s per person per calendar quarter: %(left)s left "
                            "(%(left_local)s at %(rate)s)"),
    "month": gettext_noop("Duty-free up to %(limit)s per person per calendar month: %(left)s left "
                          "(%(left_local)s at %(rate)s)"),
}
UNUSED = {
    "year": gettext_noop("No buyer given: the %(limit)s yearly allowance is assumed unused."),
    "quarter": gettext_noop("No buyer given: the %(limit)s quarterly allowance is assumed unused."),
    "month": gettext_noop("No buyer given: the %(limit)s monthly allowance is assumed unused."),
}


@dataclass
class Threshold:
    free: Money  # the part of the goods value that pays nothing
    excess: Money  # the part above the limit
    item: Item  # the breakdown line that shows the allowance
    allowance: dict | None = None
    usage: Usage | None = None


def apply(ctx: Context, rule, jurisdiction: str) -> Threshold:
    value = ctx.goods  # freight and insurance are not part of a personal parcel's value
    cur = rule.limit_currency
    to_local = ctx.rate(cur, ctx.currency)
    source = first_source(rule.source)
    if rule.value_limit is not None:
        limit_local = convert_decimal(rule.value_limit, to_local.rate, ctx.currency)
        excess = excess_of(value, limit_local)
        params = {"limit": Money.of(rule.value_limit, cur), "limit_local": limit_local,
                  "rate": rate_text(to_local.rate, ctx.currency, cur)}
        if rule.weight_limit_kg and rule.per_kg:
            rule_text = text(gettext_noop("Duty-free up to %(limit)s of goods value per parcel (%(limit_local)s at %(rate)s), "
                                          "freight excluded, and up to %(kg)s kg"), kg=number(rule.weight_limit_kg), **params)
        else:
            rule_text = text(gettext_noop("Duty-free up to %(limit)s of goods value per parcel (%(limit_local)s at %(rate)s), "
                                          "freight excluded"), **params)
        item = Item("allowance", None, value, None, Money.zero(ctx.currency), rule_text, source)
        return Threshold(value - excess, excess, item)
    # A limit per person and period: what earlier orders of the buyer used counts.
    key = period_key(rule.period, ctx.date)
    limit = Money.of(rule.period_limit, cur)
    if ctx.buyer_id is None:
        used = Money.zero(cur)
        ctx.warn(text(UNUSED[rule.period], limit=limit))
    else:
        used = ctx.allowance_used(jurisdiction, key, cur)
    remaining = excess_of(limit, used)
    remaining_local = convert_decimal(remaining.amount, to_local.rate, ctx.currency)
    excess = excess_of(value, remaining_local)
    this_order = value.convert(ctx.rate(ctx.currency, cur).rate, cur)
    rule_text = text(PERIODS[rule.period], limit=limit, left=remaining, left_local=remaining_local,
                     rate=rate_text(to_local.rate, ctx.currency, cur))
    allowance = {
        "jurisdiction": jurisdiction, "period": key, "limit": limit.to_api(), "used": used.to_api(),
        "this_order": this_order.to_api(), "remaining": excess_of(remaining, this_order).to_api(),
        "past_limit": text(gettext_noop("The value above what is left of the allowance pays the single customs payment.")).to_json(),
    }
    item = Item("allowance", None, value, None, Money.zero(ctx.currency), rule_text, source)
    return Threshold(value - excess, excess, item, allowance, Usage(jurisdiction, key, this_order))


def rate_text(rate, currency: str, per: str) -> Text:
    """An exchange rate as people write it: '512.3 KZT/EUR'."""
    return text(gettext_noop("%(rate)s %(currency)s/%(per)s"), rate=fx_rate(rate), currency=currency, per=per)


def flag_unverified(ctx: Context, rule, what: Text) -> None:
    if rule.status != "verified":
        unverified(ctx, what, rule.status)


def excess_duty_vat(ctx: Context, rule, threshold: Threshold, general_duty, rounding) -> list[Item]:
    """Duty and import VAT on the value above the limit (Tajikistan, Turkmenistan).

    The excess is shared over the lines by value; each share pays the staff tariff line's duty for
    its HS code where one is entered, else the country's general duty where the data has one.
    """
    from . import allocate, data, percent_of
    from .commercial import general_duty as general_label
    from .commercial import staff_duty

    items: list[Item] = []
    if not threshold.excess:
        return items
    shares = allocate(threshold.excess, [line.value.minor for line in ctx.lines])
    duty_total = Money.zero(ctx.currency)
    missing = []
    for line, share in zip(ctx.lines, shares, strict=True):
        staff = data.tariff_line(line.hs_code, ctx.destination, ctx.date)
        if staff is not None:
            rate, basis, source = staff.duty_percent, staff_duty(staff.hs_code), staff.source
        elif general_duty is not None:
            rate, basis, source = general_duty.rate_percent, general_label(ctx.destination), data.first_source(general_duty.source)
            if general_duty.status != "verified":
                unverified(ctx, general_label(ctx.destination, rate), general_duty.status)
        else:
            missing.append(line.hs_code)
            continue
        amount = percent_of(share, rate, rounding)
        duty_total += amount
        items.append(Item("duty", line.index, share, rate, amount,
                          text(gettext_noop("%(basis)s on this line's share of the value above the limit"), basis=basis),
                          source))
    if missing:
        ctx.warn(text(gettext_noop("No duty rate of %(country)s for HS %(codes)s: duty is not included; staff can enter "
                                   "a tariff line."), country={"country": ctx.destination}, codes=", ".join(missing)))
    vat = data.vat(ctx.destination, ctx.date)
    base = threshold.excess + duty_total
    items.append(Item("vat", None, base, vat.percent, percent_of(base, vat.percent, rounding),
                      text(gettext_noop("Import VAT %(rate)s on the value above the limit plus duty"), rate=percent(vat.percent)),
                      vat.source))
    if rule.fee_per_parcel:
        items.append(Item("fee", None, Money.zero(ctx.currency), None, ctx.to_local(rule.fee_per_parcel, rule.limit_currency),
                          text(gettext_noop("Customs clearance fee of %(fee)s per parcel"),
                               fee=Money.of(rule.fee_per_parcel, rule.limit_currency)), data.first_source(rule.source)))
    return items
