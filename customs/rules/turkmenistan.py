"""Turkmenistan: parcels free up to the per-parcel limit (500 USD, old UPU data, unverified); the
value above pays the general import duty (2 %), import VAT (15 %) and a clearance fee per parcel."""

from decimal import ROUND_HALF_UP

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError, ErrorCode
from core.texts import text

from . import Context, Outcome, data, parcels

ROUNDING = ROUND_HALF_UP


def parcel(ctx: Context) -> Outcome:
    rule = data.parcel_rule("TM", ["any"], ctx.date)
    if rule is None:
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED,
                          _("No Turkmen parcel rule in force on %(date)s.") % {"date": ctx.date.isoformat()})
    threshold = parcels.apply(ctx, rule, "TM")
    general = data.tax_rate("TM", "customs_duty_general", ctx.date)
    items = [threshold.item, *parcels.excess_duty_vat(ctx, rule, threshold, general, ROUNDING)]
    parcels.flag_unverified(ctx, rule, text(gettext_noop("Turkmenistan's parcel limit")))
    return Outcome("", ctx.goods, items)
