"""China: cross-border e-commerce retail import (CBEC, customs codes 9610 and 1210) and personal
postal articles.

CBEC within the limits (5,000 CNY per order, 26,000 CNY per person per calendar year since
2019-01-01): duty 0 %, and tax = price with freight and insurance × (CT + VAT) / (1 − CT) × 70 %,
with the VAT of the HS line (9 % for farm produce, 13 % otherwise) and CT the consumption tax
(0 unless a staff tariff line gives one). Freight and insurance are shared over the lines by value.
An order over the per-order limit is refused, except a single indivisible item (quantity 1), which
pays full duty (MFN rate of the line) and full import VAT and counts toward the yearly limit. An
order that would take the buyer past the yearly limit is refused.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError, ErrorCode
from core.money import Money
from core.texts import percent, text

from . import HUNDRED, Context, Item, Line, Outcome, Usage, allocate, data, money_text, percent_of, period_key

ROUNDING = ROUND_HALF_UP


def _line_rates(ctx: Context, line: Line) -> tuple[Decimal, str, Decimal, object, object]:
    """VAT %, its source, consumption tax %, the staff tariff line and the reference HS row."""
    staff = data.tariff_line(line.hs_code, "CN", ctx.date)
    hs = data.hs_code(line.hs_code)
    if staff is None and hs is None:
        raise DomainError(ErrorCode.INVALID_HS_CODE,
                          _("HS code %(code)s is not in the reference list and has no staff-entered rate for %(country)s.")
                          % {"code": line.hs_code, "country": "CN"},
                          {f"lines.{line.index}.hs_code": [_("Not in the reference list: staff must enter a rate for it first.")]})
    if staff is not None and staff.vat_percent is not None:
        return staff.vat_percent, staff.source, staff.excise_percent, staff, hs
    ct = staff.excise_percent if staff is not None else Decimal(0)
    if hs is not None and hs.cn_vat_percent is not None:
        if not hs.cn_rate_status.startswith("verified"):
            ctx.warn(text(gettext_noop("China's import VAT for HS %(code)s (%(rate)s) is not fully verified."),
                          code=hs.code, rate=percent(hs.cn_vat_percent)))
        return hs.cn_vat_percent, data.first_source(hs.source), ct, staff, hs
    standard = data.vat("CN", ctx.date)
    return standard.percent, standard.source, ct, staff, hs


def cbec(ctx: Context) -> Outcome:
    rule = data.parcel_rule("CN", ["cbec"], ctx.date)
    factor_row = data.tax_rate("CN", "cbec_import_tax_factor", ctx.date)
    if rule is None or factor_row is None:
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED,
                          _("China's cross-border retail import rules are not in force on %(date)s.") % {"date": ctx.date.isoformat()},
                          {"date": [_("No CBEC rule in force on %(date)s.") % {"date": ctx.date.isoformat()}]})
    factor = factor_row.rate_percent
    total = ctx.goods + ctx.shipping + ctx.insurance  # the dutiable price includes freight and insurance
    order_limit = Money.of(rule.value_limit, rule.limit_currency)
    full_tax = total > order_limit
    if full_tax and ctx.quantity != 1:
        raise DomainError(
            ErrorCode.LIMIT_EXCEEDED,
            _("This order is %(total)s with freight and insurance: over the %(limit)s limit of a cross-border retail "
              "order. Split it into smaller orders (a single item may exceed it).")
            % {"total": money_text(total), "limit": money_text(order_limit)},
            {"lines": [_("Over the %(limit)s per-order limit.") % {"limit": money_text(order_limit)}]},
        )
    key = period_key("year", ctx.date)
    yearly = Money.of(rule.period_limit, rule.limit_currency)
    if ctx.buyer_id is None:
        used = Money.zero(rule.limit_currency)
        ctx.warn(text(gettext_noop("No buyer given: the %(limit)s yearly allowance is assumed unused."), limit=yearly))
    else:
        used = ctx.allowance_used("CN", key, rule.limit_currency)
    if used + total > yearly:
        left = yearly - used if yearly > used else Money.zero(yearly.currency)
        raise DomainError(
            ErrorCode.LIMIT_EXCEEDED,
            _("This order of %(total)s would take the buyer past the %(limit)s yearly limit of cross-border retail "
              "imports (%(left)s left in %(period)s).")
            % {"total": money_text(total), "limit": money_text(yearly), "left": money_text(left), "period": key},
            {"buyer": [_("%(left)s of the yearly allowance left.") % {"left": money_text(left)}]},
        )
    source = data.first_source(rule.source)
    allowance = {
        "jurisdiction": "CN", "period": key, "limit": yearly.to_api(), "used": used.to_api(),
        "this_order": total.to_api(), "remaining": (yearly - used - total).to_api(),
        "past_limit": text(gettext_noop("An order that would take the buyer past the yearly limit is refused.")).to_json(),
    }
    shares = allocate(ctx.shipping + ctx.insurance, [line.value.minor for line in ctx.lines])
    items = [Item("customs_value", None, ctx.goods, None, total,
                  text(gettext_noop("Dutiable price: goods with freight and insurance")), source)]
    if not full_tax:
        items.append(Item("duty", None, total, Decimal(0), Money.zero(ctx.currency),
                          text(gettext_noop("Duty %(rate)s within the limits (%(order)s per order, %(year)s per year)"),
                               rate=percent(0), order=order_limit, year=yearly), source))
    for line, share in zip(ctx.lines, shares, strict=True):
        base = line.value + share
        vat_pct, vat_source, ct_pct, staff, hs = _line_rates(ctx, line)
        if not full_tax:
            ct_rate = ct_pct * factor / (HUNDRED - ct_pct)
            vat_rate = vat_pct * factor / (HUNDRED - ct_pct)
            if ct_pct:
                items.append(Item("excise", line.index, base, ct_rate, percent_of(base, ct_rate, ROUNDING),
                                  text(gettext_noop("Consumption tax %(ct)s / (1 − CT) × %(factor)s (CBEC)"),
                                       ct=percent(ct_pct), factor=percent(factor)), staff.source))
            items.append(Item("vat", line.index, base, vat_rate, percent_of(base, vat_rate, ROUNDING),
                              text(gettext_noop("Import VAT %(vat)s / (1 − CT) × %(factor)s on the price with its share "
                                                "of freight and insurance (CBEC)"), vat=percent(vat_pct), factor=percent(factor)),
                              vat_source))
            continue
        duty_pct = staff.duty_percent if staff is not None else (hs.cn_mfn_percent if hs is not None else None)
        if duty_pct is None:
            raise DomainError(ErrorCode.TARIFF_RATE_MISSING,
                              _("No Chinese duty rate for HS %(code)s: a single item over %(limit)s pays full duty, and "
                                "staff must enter its rate first.") % {"code": line.hs_code, "limit": money_text(order_limit)},
                              {f"lines.{line.index}.hs_code": [_("No duty rate for this HS code.")]})
        duty = percent_of(base, duty_pct, ROUNDING)
        items.append(Item("duty", line.index, base, duty_pct, duty,
                          text(gettext_noop("Single indivisible item over %(limit)s: full duty (MFN %(rate)s)"),
                               limit=order_limit, rate=percent(duty_pct)),
                          staff.source if staff is not None and staff.duty_percent is not None else data.first_source(hs.source)))
        ct = Money.zero(ctx.currency)
        if ct_pct:
            ct_rate = ct_pct * HUNDRED / (HUNDRED - ct_pct)
            ct = percent_of(base + duty, ct_rate, ROUNDING)
            items.append(Item("excise", line.index, base + duty, ct_rate, ct,
                              text(gettext_noop("Consumption tax in full: (price + duty) × CT / (1 − CT)")), staff.source))
        items.append(Item("vat", line.index, base + duty + ct, vat_pct, percent_of(base + duty + ct, vat_pct, ROUNDING),
                          text(gettext_noop("Single indivisible item: full import VAT %(rate)s on price + duty + consumption tax"),
                               rate=percent(vat_pct)), vat_source))
    return Outcome("", total, items, allowance, Usage("CN", key, total))


@lru_cache(maxsize=1)
def _postal_categories() -> list[tuple[str, int]]:
    with open(Path(__file__).resolve().parent.parent / "data" / "cn_postal_categories.csv", newline="", encoding="utf-8") as fh:
        rows = [(r["hs_prefix"], int(r["category"])) for r in csv.DictReader(fh)]
    return sorted(rows, key=lambda r: -len(r[0]))


def postal_category(hs_code: str) -> int:
    return next((cat for prefix, cat in _postal_categories() if hs_code.startswith(prefix)), 2)


def postal_articles(ctx: Context) -> Outcome:
    """Personal postal articles outside the CBEC scheme: 13 / 20 / 50 % by category; nothing due when
    the tax is at most 50 CNY; over 1,000 CNY per parcel only a single indivisible item may pass."""
    rule = data.parcel_rule("CN", ["postal"], ctx.date)
    if rule is None:
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED,
                          _("No Chinese postal-article rule on %(date)s.") % {"date": ctx.date.isoformat()})
    limit = Money.of(rule.value_limit, rule.limit_currency)
    if ctx.goods > limit and ctx.quantity != 1:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED,
                          _("A personal postal parcel to China may hold at most %(limit)s of goods.") % {"limit": money_text(limit)},
                          {"lines": [_("Over the %(limit)s per-parcel limit.") % {"limit": money_text(limit)}]})
    rows = {r.rate_percent: r for r in data.TaxRate.objects.filter(data.in_force(ctx.date), country="CN", tax="postal_articles_tax")}
    by_category = dict(zip((1, 2, 3), sorted(rows), strict=False))
    items = []
    for line in ctx.lines:
        category = postal_category(line.hs_code)
        rate = by_category[category]
        items.append(Item("duty", line.index, line.value, rate, percent_of(line.value, rate, ROUNDING),
                          text(gettext_noop("Postal articles tax, category %(category)s (%(rate)s), replacing duty and VAT"),
                               category=str(category), rate=percent(rate)),
                          data.first_source(rows[rate].source)))
    due = sum((i.amount for i in items), Money.zero(ctx.currency))
    exempt = Money.of(rule.tax_exempt_up_to, rule.limit_currency)
    if due <= exempt:
        items = [Item(i.kind, i.line, i.base, i.rate, Money.zero(ctx.currency),
                      text(gettext_noop("%(rule)s — waived: total %(due)s ≤ %(exempt)s"), rule=i.rule, due=due, exempt=exempt),
                      i.source) for i in items]
    ctx.warn(text(gettext_noop("Chinese customs value personal articles at their own table of dutiable prices; "
                               "the price is used here.")))
    return Outcome("", ctx.goods, items)
