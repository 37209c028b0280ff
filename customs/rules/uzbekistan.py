"""Uzbekistan: personal parcels.

Postal items are free up to the per-item limit; courier parcels up to a per-person allowance for
the period (200 USD per calendar month from 2025-05-01, 1,000 USD per quarter before). The value
above pays a single customs payment that replaces duty, VAT and excise (30 %, reported but
unverified: it lives in the data and the quote says so).
"""

from decimal import ROUND_HALF_UP

from core.errors import DomainError, ErrorCode

from . import Context, Item, Outcome, data, parcels, pct, percent_of

ROUNDING = ROUND_HALF_UP


def parcel(ctx: Context) -> Outcome:
    channel = "post" if ctx.channel == "post" else "courier"
    rule = data.parcel_rule("UZ", [channel], ctx.date)
    if rule is None:
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED, f"No Uzbek {channel} parcel rule in force on {ctx.date}.",
                          {"date": [f"No parcel rule in force on {ctx.date}."]})
    threshold = parcels.apply(ctx, rule, "UZ" if rule.period else "")
    items = [threshold.item]
    if threshold.excess:
        items.append(Item("parcel_payment", None, threshold.excess, rule.rate_percent,
                          percent_of(threshold.excess, rule.rate_percent, ROUNDING),
                          f"Single customs payment replacing duty, VAT and excise: {pct(rule.rate_percent)}% of the value above the allowance",
                          data.first_source(rule.source)))
    parcels.flag_unverified(ctx, rule, f"The Uzbek {channel} allowance")
    ctx.warn(f"Uzbekistan's single customs payment rate ({pct(rule.rate_percent)}%) is reported but unverified.")
    return Outcome("", ctx.goods, items, threshold.allowance, threshold.usage)
