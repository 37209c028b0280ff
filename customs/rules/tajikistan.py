"""Tajikistan: personal postal items free up to the per-item limit (100 USD); the value above pays
duty (where a staff tariff line gives the rate) and import VAT at the rate in force (14 % from
2024-01-01 to 2026-12-31, 13 % from 2027). The limit is old and unverified: the quote says so."""

from decimal import ROUND_HALF_UP

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError, ErrorCode
from core.texts import text

from . import Context, Outcome, data, parcels

ROUNDING = ROUND_HALF_UP


def parcel(ctx: Context) -> Outcome:
    rule = data.parcel_rule("TJ", ["any"], ctx.date)
    if rule is None:
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED,
                          _("No Tajik parcel rule in force on %(date)s.") % {"date": ctx.date.isoformat()})
    threshold = parcels.apply(ctx, rule, "TJ")
    items = [threshold.item, *parcels.excess_duty_vat(ctx, rule, threshold, None, ROUNDING)]
    parcels.flag_unverified(ctx, rule, text(gettext_noop("Tajikistan's parcel limit")))
    return Outcome("", ctx.goods, items)
