"""The personal-parcel threshold shared by the Central Asian jurisdictions: how much of a parcel's
goods value is duty-free (per parcel, or what is left of a per-person allowance for the period) and
how much is the excess that pays."""

from __future__ import annotations

from dataclasses import dataclass

from core.money import Money

from . import Context, Item, Usage, convert_decimal, excess_of, money_text, pct, period_key
from .data import first_source


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
        text = (f"Duty-free up to {rule.value_limit:,} {cur} of goods value per parcel "
                f"({money_text(limit_local)} at {to_local.rate} {ctx.currency}/{cur}), freight excluded")
        if rule.weight_limit_kg and rule.per_kg:
            text += f", and up to {pct(rule.weight_limit_kg)} kg"
        item = Item("allowance", None, value, None, Money.zero(ctx.currency), text, source)
        return Threshold(value - excess, excess, item)
    # A limit per person and period: what earlier orders of the buyer used counts.
    key = period_key(rule.period, ctx.date)
    limit = Money.of(rule.period_limit, cur)
    if ctx.buyer_id is None:
        used = Money.zero(cur)
        ctx.warn(f"No buyer given: the {limit.amount:,} {cur} per-{rule.period} allowance is assumed unused.")
    else:
        used = ctx.allowance_used(jurisdiction, key, cur)
    remaining = excess_of(limit, used)
    remaining_local = convert_decimal(remaining.amount, to_local.rate, ctx.currency)
    excess = excess_of(value, remaining_local)
    this_order = value.convert(ctx.rate(ctx.currency, cur).rate, cur)
    text = (f"Duty-free up to {limit.amount:,} {cur} per person per calendar {rule.period}: "
            f"{money_text(remaining)} left ({money_text(remaining_local)} at {to_local.rate} {ctx.currency}/{cur})")
    allowance = {
        "jurisdiction": jurisdiction, "period": key, "limit": limit.to_api(), "used": used.to_api(),
        "this_order": this_order.to_api(), "remaining": excess_of(remaining, this_order).to_api(),
        "past_limit": "The value above what is left of the allowance pays the single customs payment.",
    }
    item = Item("allowance", None, value, None, Money.zero(ctx.currency), text, source)
    return Threshold(value - excess, excess, item, allowance, Usage(jurisdiction, key, this_order))


def flag_unverified(ctx: Context, rule, what: str) -> None:
    if rule.status != "verified":
        ctx.warn(f"{what} is {rule.get_status_display().lower()} in the reference data; the figure may change.")


def excess_duty_vat(ctx: Context, rule, threshold: Threshold, general_duty, rounding) -> list[Item]:
    """Duty and import VAT on the value above the limit (Tajikistan, Turkmenistan).

    The excess is shared over the lines by value; each share pays the staff tariff line's duty for
    its HS code where one is entered, else the country's general duty where the data has one.
    """
    from . import allocate, data, pct, percent_of

    items: list[Item] = []
    if not threshold.excess:
        return items
    shares = allocate(threshold.excess, [line.value.minor for line in ctx.lines])
    duty_total = Money.zero(ctx.currency)
    missing = []
    for line, share in zip(ctx.lines, shares, strict=True):
        staff = data.tariff_line(line.hs_code, ctx.destination, ctx.date)
        if staff is not None:
            rate, text, source = staff.duty_percent, f"Duty of HS {staff.hs_code} (staff tariff line)", staff.source
        elif general_duty is not None:
            rate, text, source = general_duty.rate_percent, f"{ctx.destination} general import duty", data.first_source(general_duty.source)
            if general_duty.status != "verified":
                ctx.warn(f"{ctx.destination}'s general import duty ({pct(rate)}%) is {general_duty.get_status_display().lower()}.")
        else:
            missing.append(line.hs_code)
            continue
        amount = percent_of(share, rate, rounding)
        duty_total += amount
        items.append(Item("duty", line.index, share, rate, amount, f"{text} on this line's share of the value above the limit", source))
    if missing:
        ctx.warn(f"No duty rate of {ctx.destination} for HS {', '.join(missing)}: duty is not included; staff can enter a tariff line.")
    vat = data.vat(ctx.destination, ctx.date)
    base = threshold.excess + duty_total
    items.append(Item("vat", None, base, vat.percent, percent_of(base, vat.percent, rounding),
                      f"Import {vat.label} on the value above the limit plus duty", vat.source))
    if rule.fee_per_parcel:
        items.append(Item("fee", None, Money.zero(ctx.currency), None, ctx.to_local(rule.fee_per_parcel, rule.limit_currency),
                          f"Customs clearance fee of {rule.fee_per_parcel} {rule.limit_currency} per parcel", data.first_source(rule.source)))
    return items
