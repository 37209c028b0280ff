"""Commercial imports: a release from bond for free circulation (B2B), the entry into a customs
warehouse, and sales of released stock inside its country.

Release from bond: customs value (CV) = goods + freight + insurance to the border, in the importing
country's currency at the rate of the declaration date; duty = CV × the HS line's rate; excise where
the line has one; import VAT = (CV + duty + excise) × the VAT rate in force. Freight and insurance
are shared over the lines by value. The duty rate is the staff tariff line's, else the reference
tariff (EAEU ETT for KZ and KG), else the country's general duty (Turkmenistan); with none, the quote
is refused rather than charging a silent zero.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError, ErrorCode
from core.money import Money
from core.texts import country, percent, text

from . import EAEU, HUNDRED, Context, Item, Outcome, allocate, data, percent_of, unverified

ROUNDING = ROUND_HALF_UP
CUSTOMS_VALUE = text(gettext_noop("Customs value: goods + freight + insurance to the border"))


def staff_duty(hs_code: str):
    return text(gettext_noop("Duty of HS %(code)s (staff tariff line)"), code=hs_code)


def general_duty(destination: str, rate=None):
    if rate is None:
        return text(gettext_noop("General import duty of %(country)s"), country=country(destination))
    return text(gettext_noop("The general import duty of %(country)s (%(rate)s)"), country=country(destination),
                rate=percent(rate))


def _duty_rate(ctx: Context, line, staff, hs):
    if staff is not None:
        return staff.duty_percent, staff_duty(staff.hs_code), staff.source
    if ctx.destination in EAEU and hs is not None and hs.eaeu_duty_percent is not None:
        if hs.eaeu_rate_status != "verified":
            unverified(ctx, text(gettext_noop("The EAEU duty rate of HS %(code)s"), code=hs.code), hs.eaeu_rate_status)
        return (hs.eaeu_duty_percent, text(gettext_noop("EAEU common customs tariff, HS %(code)s"), code=hs.code),
                data.first_source(hs.source))
    general = data.tax_rate(ctx.destination, "customs_duty_general", ctx.date)
    if general is not None:
        if general.status != "verified":
            unverified(ctx, general_duty(ctx.destination, general.rate_percent), general.status)
        return general.rate_percent, general_duty(ctx.destination), data.first_source(general.source)
    raise DomainError(
        ErrorCode.TARIFF_RATE_MISSING,
        _("No duty rate of %(country)s for HS %(code)s on %(date)s: staff must enter a tariff line for it.")
        % {"country": ctx.destination, "code": line.hs_code, "date": ctx.date.isoformat()},
        {f"lines.{line.index}.hs_code": [_("No duty rate of %(country)s for this HS code.") % {"country": ctx.destination}]},
    )


def release_from_bond(ctx: Context) -> Outcome:
    freight = ctx.shipping + ctx.insurance
    shares = allocate(freight, [line.value.minor for line in ctx.lines])
    cv_total = ctx.goods + freight
    items = [Item("customs_value", None, ctx.goods, None, cv_total,
                  CUSTOMS_VALUE, "")]
    national_vat = data.vat(ctx.destination, ctx.date)
    for line, share in zip(ctx.lines, shares, strict=True):
        cv = line.value + share
        staff = data.tariff_line(line.hs_code, ctx.destination, ctx.date)
        hs = data.hs_code(line.hs_code)
        rate, basis, source = _duty_rate(ctx, line, staff, hs)
        duty = percent_of(cv, rate, ROUNDING)
        items.append(Item("duty", line.index, cv, rate, duty,
                          text(gettext_noop("%(basis)s: CV × %(rate)s"), basis=basis, rate=percent(rate)), source))
        excise = Money.zero(ctx.currency)
        if staff is not None and staff.excise_percent:
            excise = percent_of(cv, staff.excise_percent, ROUNDING)
            items.append(Item("excise", line.index, cv, staff.excise_percent, excise,
                              text(gettext_noop("Excise (staff tariff line): CV × rate")), staff.source))
        vat_pct = staff.vat_percent if staff is not None and staff.vat_percent is not None else national_vat.percent
        vat_base = cv + duty + excise
        items.append(Item("vat", line.index, vat_base, vat_pct, percent_of(vat_base, vat_pct, ROUNDING),
                          text(gettext_noop("Import VAT %(rate)s on CV + duty + excise"), rate=percent(vat_pct)),
                          national_vat.source))
    fee = data.tax_rate(ctx.destination, "customs_clearance_fee", ctx.date)
    if fee is not None:
        items.append(Item("fee", None, cv_total, fee.rate_percent, percent_of(cv_total, fee.rate_percent, ROUNDING),
                          text(gettext_noop("Customs clearance fee of %(country)s on the customs value"),
                               country=country(ctx.destination)), data.first_source(fee.source)))
        if fee.status != "verified":
            unverified(ctx, text(gettext_noop("The clearance fee of %(country)s (%(rate)s)"),
                                 country=country(ctx.destination), rate=percent(fee.rate_percent)), fee.status)
    return Outcome("", cv_total, items)


def customs_warehouse(ctx: Context) -> Outcome:
    cv_total = ctx.goods + ctx.shipping + ctx.insurance
    return Outcome("", cv_total, [
        Item("customs_value", None, ctx.goods, None, cv_total, CUSTOMS_VALUE, ""),
        Item("duty", None, cv_total, Decimal(0), Money.zero(ctx.currency),
             text(gettext_noop("Customs warehouse: no duty or VAT on entry; they are paid when the goods are "
                               "released from bond")), ""),
    ])


def domestic(ctx: Context) -> Outcome:
    """Released (duty-paid) stock sold inside its country: no customs; the price includes VAT."""
    vat = data.vat(ctx.destination, ctx.date)
    gross = ctx.goods + ctx.shipping
    included = gross.times(vat.percent / (HUNDRED + vat.percent), rounding=ROUNDING)
    return Outcome("", Money.zero(ctx.currency), [
        Item("vat_included", None, gross, vat.percent, included,
             text(gettext_noop("No customs at sale: the price includes the domestic VAT of %(rate)s (shown, not added)"),
                  rate=percent(vat.percent)), vat.source),
    ])
