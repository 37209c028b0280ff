"""Kazakhstan and Kyrgyzstan (EAEU): personal parcels.

Free up to the value limit (goods value, freight excluded) and the weight limit per parcel. Above
either, one payment replaces duty and VAT: the larger of ``rate`` % of the value above the limit and
``per_kg`` (EUR) per kg above the weight limit, each term zero when its limit is not exceeded.
Limits, rates and dates come from the parcel rules in force on the quote date (200 EUR / 31 kg /
15 % / 2 EUR per kg since 2024-04-01; 1,000 EUR from 2022-03-31 to 2024-03-31; the signed
e-commerce regime is in the data but not in force).
"""

from decimal import ROUND_HALF_UP, Decimal

from core.errors import DomainError, ErrorCode
from core.money import Money

from . import Context, Item, Outcome, convert_decimal, data, money_text, parcels, pct, percent_of

ROUNDING = ROUND_HALF_UP


def parcel(ctx: Context) -> Outcome:
    rule = data.parcel_rule("EAEU", ["any"], ctx.date, ctx.destination)
    if rule is None:
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED, f"No EAEU parcel rule in force on {ctx.date}.",
                          {"date": [f"No parcel rule in force on {ctx.date}."]})
    threshold = parcels.apply(ctx, rule, "EAEU")
    items = [threshold.item]
    value_term = percent_of(threshold.excess, rule.rate_percent, ROUNDING)
    excess_kg = max(ctx.weight_kg - (rule.weight_limit_kg or ctx.weight_kg), Decimal(0))
    eur = ctx.rate(rule.limit_currency, ctx.currency)
    weight_term = convert_decimal(excess_kg * rule.per_kg, eur.rate, ctx.currency, ROUNDING) if rule.per_kg else Money.zero(ctx.currency)
    source = data.first_source(rule.source)
    if value_term >= weight_term and value_term:
        items.append(Item("parcel_payment", None, threshold.excess, rule.rate_percent, value_term,
                          f"Single payment replacing duty and VAT: {pct(rule.rate_percent)}% of the value above the limit "
                          f"(the weight term, {money_text(weight_term)}, is lower)", source))
    elif weight_term:
        items.append(Item("parcel_payment", None, Money.zero(ctx.currency), None, weight_term,
                          f"Single payment replacing duty and VAT: {rule.per_kg} {rule.limit_currency} per kg over "
                          f"{pct(rule.weight_limit_kg)} kg ({pct(excess_kg)} kg at {eur.rate}); "
                          f"15% of the value term is {money_text(value_term)}", source))
    parcels.flag_unverified(ctx, rule, "The EAEU parcel rule")
    fee = data.tax_rate(ctx.destination, "customs_fee_postal", ctx.date)
    if fee is not None:
        items.append(Item("fee", None, ctx.goods, fee.rate_percent, percent_of(ctx.goods, fee.rate_percent, ROUNDING),
                          f"{ctx.destination} customs fee for express and postal declarations", data.first_source(fee.source)))
    return Outcome("", ctx.goods, items, threshold.allowance, threshold.usage)
