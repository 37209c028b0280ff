"""Uzbekistan: personal parcels.

Postal items are free up to the per-item limit; courier parcels up to a per-person allowance for
the period (200 USD per calendar month from 2025-05-01, 1,000 USD per quarter before). The value
above pays a single customs payment that replaces duty, VAT and excise: ``rate`` % (30 %) of the
excess, and, where the rule in force has a ``per_kg`` minimum (the courier rule from 2025-05-01:
3 USD per kg), not less than that minimum. Rate and minimum are reported but not fully verified:
they live in the data (customs/data/parcel_terms.csv) and the quote says so.

Reading of the minimum (decided here; the published rule and the csv row only say "not less than
3 USD per kg"): the kilograms are the parcel's gross weight, i.e. the sum of the quoted lines' weights
(``per_kg_basis`` "total"), not a share of it in proportion to the excess, since Uzbekistan has no
weight allowance to deduct (the 30 kg is a maximum per courier item, not a free weight) and the
minimum qualifies the payment, not the excess. The minimum only applies when there is an excess:
a parcel within (what is left of) the allowance pays nothing, however heavy. The payment is the
larger of the two terms (the percentage term on a tie); the minimum is converted from USD at the
quote's USD rate, as the EAEU per-kg term is, and each term is rounded half-up to the tiyin. A
parcel just over the allowance therefore pays the whole weight minimum: that is the literal rule.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError, ErrorCode
from core.money import Money
from core.texts import number, percent, text

from . import Context, Item, Outcome, convert_decimal, data, parcels, percent_of

ALLOWANCES = {"post": gettext_noop("The Uzbek postal allowance"), "courier": gettext_noop("The Uzbek courier allowance")}

ROUNDING = ROUND_HALF_UP


def parcel(ctx: Context) -> Outcome:
    channel = "post" if ctx.channel == "post" else "courier"
    rule = data.parcel_rule("UZ", [channel], ctx.date)
    if rule is None:
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED,
                          (_("No Uzbek postal parcel rule in force on %(date)s.") if channel == "post"
                           else _("No Uzbek courier parcel rule in force on %(date)s.")) % {"date": ctx.date.isoformat()},
                          {"date": [_("No parcel rule in force on %(date)s.") % {"date": ctx.date.isoformat()}]})
    threshold = parcels.apply(ctx, rule, "UZ" if rule.period else "")
    items = [threshold.item]
    if threshold.excess:
        items.append(_single_payment(ctx, rule, threshold.excess))
    parcels.flag_unverified(ctx, rule, text(ALLOWANCES[channel]))
    if rule.per_kg:
        ctx.warn(text(gettext_noop("Uzbekistan's single customs payment (%(rate)s, at least %(per_kg)s %(currency)s per kg) "
                                   "is reported but unverified."),
                      rate=percent(rule.rate_percent), per_kg=number(rule.per_kg), currency=rule.limit_currency))
    else:
        ctx.warn(text(gettext_noop("Uzbekistan's single customs payment rate (%(rate)s) is reported but unverified."),
                      rate=percent(rule.rate_percent)))
    return Outcome("", ctx.goods, items, threshold.allowance, threshold.usage)


def _single_payment(ctx: Context, rule, excess: Money) -> Item:
    source = data.first_source(rule.source)
    value_term = percent_of(excess, rule.rate_percent, ROUNDING)
    if not rule.per_kg:
        return Item("parcel_payment", None, excess, rule.rate_percent, value_term,
                    text(gettext_noop("Single customs payment replacing duty, VAT and excise: %(rate)s of the value above "
                                      "the allowance"), rate=percent(rule.rate_percent)), source)
    if rule.per_kg_basis == "total":
        kg = ctx.weight_kg
    else:
        kg = max(ctx.weight_kg - (rule.weight_limit_kg or ctx.weight_kg), Decimal(0))
    usd = ctx.rate(rule.limit_currency, ctx.currency)
    minimum = convert_decimal(kg * rule.per_kg, usd.rate, ctx.currency, ROUNDING) if kg else Money.zero(ctx.currency)
    per_kg = text(gettext_noop("%(per_kg)s %(currency)s per kg × %(kg)s kg at %(fx)s = %(minimum)s"),
                  per_kg=number(rule.per_kg), currency=rule.limit_currency, kg=number(kg),
                  fx=parcels.rate_text(usd.rate, ctx.currency, rule.limit_currency), minimum=minimum)
    if value_term >= minimum:
        return Item("parcel_payment", None, excess, rule.rate_percent, value_term,
                    text(gettext_noop("Single customs payment replacing duty, VAT and excise: %(rate)s of the value above "
                                      "the allowance (the minimum of %(per_kg)s is lower)"),
                         rate=percent(rule.rate_percent), per_kg=per_kg), source)
    return Item("parcel_payment", None, Money.zero(ctx.currency), None, minimum,
                text(gettext_noop("Single customs payment replacing duty, VAT and excise: the minimum of %(per_kg)s, higher "
                                  "than %(rate)s of the value above the allowance (%(value_term)s)"),
                     per_kg=per_kg, rate=percent(rule.rate_percent), value_term=value_term), source)
