"""Kazakhstan and Kyrgyzstan (EAEU): personal parcels and, from 2026-07-01, e-commerce goods.

The parcel rule in force on the quote date decides which computation applies (its ``method``, from
customs/data/parcel_terms.csv); no rate, limit or date is written here.

``excess_single_payment`` (regime ``eaeu_personal_parcel``; 200 EUR / 31 kg / 15 % / 2 EUR per kg
from 2024-04-01 to 2026-06-30, 1,000 EUR from 2022-03-31 to 2024-03-31): free up to the value limit
(goods value, freight excluded) and the weight limit per parcel. Above either, one payment replaces
duty and VAT: the larger of ``rate`` % of the value above the limit and ``per_kg`` (EUR) per kg above
the weight limit, each term zero when its limit is not exceeded.

``full_value_ecommerce`` (regime ``eaeu_ecommerce``; goods bought by individuals on a platform
outside the EAEU, from 2026-07-01): nothing due up to the value limit (200 EUR), with no weight
limit. Above it, duty = the larger of ``rate`` % (5 %) of the *whole* goods value and ``per_kg``
(1 EUR) per kg of the parcel's gross weight (``per_kg_basis`` "total"), plus import VAT at the
country's standard rate in force on the date (taxes.csv: KZ 16 % from 2026-01-01, KG 12 %) on
value + duty. Each line is rounded half-up to the minor unit; amounts in EUR are converted at the
quote's EUR rate. These payments are not refunded when a parcel is returned.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError, ErrorCode
from core.money import Money
from core.texts import country, number, percent, text

from . import Context, Item, Outcome, convert_decimal, data, parcels, percent_of

ROUNDING = ROUND_HALF_UP
CHANNELS = ["any", "ecommerce"]
REGIMES = {"excess_single_payment": "eaeu_personal_parcel", "full_value_ecommerce": "eaeu_ecommerce"}


def parcel(ctx: Context) -> Outcome:
    rule = data.parcel_rule("EAEU", CHANNELS, ctx.date, ctx.destination)
    if rule is None or rule.method not in REGIMES:
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED,
                          _("No EAEU parcel rule in force on %(date)s.") % {"date": ctx.date.isoformat()},
                          {"date": [_("No parcel rule in force on %(date)s.") % {"date": ctx.date.isoformat()}]})
    threshold = parcels.apply(ctx, rule, "EAEU")
    if rule.method == "full_value_ecommerce":
        items = _ecommerce(ctx, rule, threshold)
    else:
        items = _single_payment(ctx, rule, threshold)
    parcels.flag_unverified(ctx, rule, text(gettext_noop("The EAEU parcel rule")))
    fee = data.tax_rate(ctx.destination, "customs_fee_postal", ctx.date)
    if fee is not None:
        items.append(Item("fee", None, ctx.goods, fee.rate_percent, percent_of(ctx.goods, fee.rate_percent, ROUNDING),
                          text(gettext_noop("Customs fee of %(country)s for express and postal declarations"),
                               country=country(ctx.destination)), data.first_source(fee.source)))
    return Outcome(REGIMES[rule.method], ctx.goods, items, threshold.allowance, threshold.usage)


def _kg(ctx: Context, rule) -> Decimal:
    """The kilograms the per-kg term counts: all of them, or those above the weight limit."""
    if rule.per_kg_basis == "total":
        return ctx.weight_kg
    if rule.weight_limit_kg is None:
        return Decimal(0)
    return max(ctx.weight_kg - rule.weight_limit_kg, Decimal(0))


def _weight_term(ctx: Context, rule, kg: Decimal) -> tuple[Money, Decimal]:
    eur = ctx.rate(rule.limit_currency, ctx.currency)
    if not rule.per_kg or not kg:
        return Money.zero(ctx.currency), eur.rate
    return convert_decimal(kg * rule.per_kg, eur.rate, ctx.currency, ROUNDING), eur.rate


def _single_payment(ctx: Context, rule, threshold: parcels.Threshold) -> list[Item]:
    items = [threshold.item]
    value_term = percent_of(threshold.excess, rule.rate_percent, ROUNDING)
    excess_kg = _kg(ctx, rule)
    weight_term, eur_rate = _weight_term(ctx, rule, excess_kg)
    source = data.first_source(rule.source)
    if value_term >= weight_term and value_term:
        items.append(Item("parcel_payment", None, threshold.excess, rule.rate_percent, value_term,
                          text(gettext_noop("Single payment replacing duty and VAT: %(rate)s of the value above the limit "
                                            "(the weight term, %(weight_term)s, is lower)"),
                               rate=percent(rule.rate_percent), weight_term=weight_term), source))
    elif weight_term:
        items.append(Item("parcel_payment", None, Money.zero(ctx.currency), None, weight_term,
                          text(gettext_noop("Single payment replacing duty and VAT: %(per_kg)s %(currency)s per kg over "
                                            "%(limit_kg)s kg (%(kg)s kg at %(fx)s); %(rate)s of the value term is %(value_term)s"),
                               per_kg=number(rule.per_kg), currency=rule.limit_currency, limit_kg=number(rule.weight_limit_kg),
                               kg=number(excess_kg), fx=parcels.rate_text(eur_rate, ctx.currency, rule.limit_currency),
                               rate=percent(rule.rate_percent), value_term=value_term), source))
    return items


def _ecommerce(ctx: Context, rule, threshold: parcels.Threshold) -> list[Item]:
    allowance = threshold.item
    allowance.rule = text(gettext_noop("%(allowance)s; no weight limit. Above the limit, duty and VAT are due on the whole "
                                       "value (EAEU e-commerce goods, declared by Karavan as the e-commerce operator)"),
                          allowance=allowance.rule)
    items = [allowance]
    if not threshold.excess:
        return items
    value = ctx.goods  # the whole goods value, not the part above the limit; freight excluded
    source = data.first_source(rule.source)
    value_term = percent_of(value, rule.rate_percent, ROUNDING)
    kg = _kg(ctx, rule)
    weight_term, eur_rate = _weight_term(ctx, rule, kg)
    if value_term >= weight_term:
        duty = Item("duty", None, value, rule.rate_percent, value_term,
                    text(gettext_noop("E-commerce goods duty: %(rate)s of the whole goods value (the weight term, "
                                      "%(per_kg)s %(currency)s per kg × %(kg)s kg = %(weight_term)s, is lower)"),
                         rate=percent(rule.rate_percent), per_kg=number(rule.per_kg), currency=rule.limit_currency,
                         kg=number(kg), weight_term=weight_term),
                    source)
    else:
        duty = Item("duty", None, Money.zero(ctx.currency), None, weight_term,
                    text(gettext_noop("E-commerce goods duty: %(per_kg)s %(currency)s per kg of gross weight "
                                      "(%(kg)s kg at %(fx)s), higher than %(rate)s of the whole value (%(value_term)s)"),
                         per_kg=number(rule.per_kg), currency=rule.limit_currency, kg=number(kg),
                         fx=parcels.rate_text(eur_rate, ctx.currency, rule.limit_currency), rate=percent(rule.rate_percent),
                         value_term=value_term), source)
    items.append(duty)
    vat = data.vat(ctx.destination, ctx.date)
    base = value + duty.amount
    items.append(Item("vat", None, base, vat.percent, percent_of(base, vat.percent, ROUNDING),
                      text(gettext_noop("Import VAT %(rate)s on the goods value plus the e-commerce duty"),
                           rate=percent(vat.percent)), vat.source))
    ctx.warn(text(gettext_noop("Duty and VAT on e-commerce goods are not refunded if the parcel is returned.")))
    return items
