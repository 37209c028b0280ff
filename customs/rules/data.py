"""Reads of the rule tables for a given date: the only place the rules get their figures from.

Every lookup takes the date of the quote or declaration and returns the row in force on it, so a
quote for 2025-12-31 and one for 2026-01-01 use the VAT of their own day.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date as Date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import F, Q
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode

from ..models import HsCode, ParcelRule, TariffLine, TaxRate

# --- the process's memo of the rule tables --------------------------------------------------------
#
# A quote reads the same few rows (the VAT of the day, the parcel rule, FX rates, the country's
# currency) every time. Inside ``with cached():`` each lookup below is kept in memory, per argument
# (so per rules date), under the version of ``customs.RulesStamp`` read once on entering the block;
# any write to a table the rules read gives the stamp a new version in the writer's transaction
# (triggers, migration customs 0003), so the next block sees it and reads again. Outside a block,
# or on a database without the triggers (the SQLite demo), every lookup reads the database.

_MEMO_VERSIONS = 4  # versions kept at once: a thread inside an uncommitted change has its own
_memos: dict[int, dict] = {}
_local = threading.local()


# The rules' version as a scalar subquery, for a caller to read with a statement of its own (an
# order's placement reads it with its storefront) and hand to :func:`cached`: one round trip fewer.
VERSION_SQL = "(SELECT version FROM customs_rulesstamp WHERE id = 1)"


def _stamp() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM customs_rulesstamp WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


@contextmanager
def cached(version: int | None = None) -> Iterator[None]:
    """Memoise the rule tables' lookups for the block: one query (the stamp) on entering, none when
    the caller read ``version`` (:data:`VERSION_SQL`) in its own statement just before."""
    if getattr(_local, "memo", None) is not None or connection.vendor != "postgresql":
        yield
        return
    version = version if version is not None else _stamp()
    if version is None:
        yield
        return
    memo = _memos.get(version)
    if memo is None:
        while len(_memos) >= _MEMO_VERSIONS:
            _memos.pop(next(iter(_memos)))
        memo = _memos[version] = {}
    _local.memo = memo
    try:
        yield
    finally:
        _local.memo = None


def memoised(key: tuple, load: Callable):
    """``load()``, kept under ``key`` inside a :func:`cached` block; a DomainError is not kept."""
    memo = getattr(_local, "memo", None)
    if memo is None:
        return load()
    try:
        return memo[key]
    except KeyError:
        value = memo[key] = load()
        return value


def country_known(code: str) -> bool:
    from core.models import Country

    return memoised(("country", code), lambda: Country.objects.filter(iso2=code).exists())


def country_currency(code: str) -> str:
    from core.models import Country

    return memoised(("currency", code), lambda: Country.objects.values_list("currency_id", flat=True).get(iso2=code))


def place_country(code: str) -> tuple[bool, str | None]:
    """(whether the place exists, its country)."""
    from core.models import Place

    def load():
        row = Place.objects.filter(code=code).values_list("country_id").first()
        return (row is not None, row[0] if row else None)

    return memoised(("place", code), load)


def in_force(on: Date) -> Q:
    return (Q(effective_from__isnull=True) | Q(effective_from__lte=on)) & (Q(effective_to__isnull=True) | Q(effective_to__gte=on))


@dataclass(frozen=True)
class Rate:
    percent: Decimal
    country: str
    source: str
    status: str


def tax_rate(country: str, tax: str, on: Date) -> TaxRate | None:
    return memoised(("tax_rate", country, tax, on), lambda: _tax_rate(country, tax, on))


def _tax_rate(country: str, tax: str, on: Date) -> TaxRate | None:
    return TaxRate.objects.filter(in_force(on), country=country, tax=tax, rate_percent__isnull=False).order_by(
        "-effective_from").first()


def vat(country: str, on: Date) -> Rate:
    row = tax_rate(country, "vat", on)
    if row is None:
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED,
                          _("No VAT rate of %(country)s is in force on %(date)s.") % {"country": country, "date": on.isoformat()},
                          {"date": [_("No VAT rate of %(country)s on %(date)s.") % {"country": country, "date": on.isoformat()}]})
    return Rate(row.rate_percent, country, first_source(row.source), row.status)


def parcel_rule(jurisdiction: str, channels: list[str], on: Date, country: str | None = None) -> ParcelRule | None:
    """The parcel rule in force on ``on`` among ``channels``: where two overlap, the one that started
    last (a row without a start date counts as the oldest, whatever the database's NULL order)."""
    return memoised(("parcel_rule", jurisdiction, tuple(channels), on, country),
                    lambda: _parcel_rule(jurisdiction, channels, on, country))


def _parcel_rule(jurisdiction: str, channels: list[str], on: Date, country: str | None) -> ParcelRule | None:
    qs = ParcelRule.objects.filter(in_force(on), jurisdiction=jurisdiction, channel__in=channels, in_force=True)
    if country:
        qs = qs.filter(countries__contains=country)
    return qs.order_by(F("effective_from").desc(nulls_last=True), "-pk").first()


def hs_code(code: str) -> HsCode | None:
    return memoised(("hs_code", code[:6]), lambda: HsCode.objects.filter(code=code[:6]).first())


def tariff_line(code: str, country: str, on: Date) -> TariffLine | None:
    """The staff-entered line for ``code`` in ``country``: the longest code that prefixes it."""
    return memoised(("tariff_line", code, country, on), lambda: _tariff_line(code, country, on))


def _tariff_line(code: str, country: str, on: Date) -> TariffLine | None:
    prefixes = [code[:n] for n in range(len(code), 5, -1)]
    lines = TariffLine.objects.filter(in_force(on), country=country, hs_code__in=prefixes)
    return max(lines, key=lambda line: (len(line.hs_code), line.effective_from), default=None)


def first_source(text: str) -> str:
    return (text or "").split(";")[0].strip()


# --- FX -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FxRate:
    base: str
    quote: str
    rate: Decimal  # units of ``quote`` per unit of ``base``
    as_of: Date | None
    source: str

    def to_api(self) -> dict:
        return {"from": self.base, "to": self.quote, "rate": format(self.rate, "f"),
                "as_of": self.as_of.isoformat() if self.as_of else None}


RATE_PLACES = Decimal("0.0000000001")


def fx_rate(base: str, quote: str, on: Date) -> FxRate:
    """The rate to convert ``base`` to ``quote`` for a quote dated ``on``.

    From ``payments.selectors.fx_rate(from, to, as_of)``; where payments has no rate for the pair,
    the indicative rates of reference/currencies.csv (``usd_per_unit``, loaded into core.Currency)
    are crossed through USD. The rate is rounded to 10 places once, and that printed rate is the one
    used, so anybody can redo the arithmetic from the quote.
    """
    if base == quote:
        return FxRate(base, quote, Decimal(1), on, "identity")
    return memoised(("fx_rate", base, quote, on), lambda: _fx_rate(base, quote, on))


def _fx_rate(base: str, quote: str, on: Date) -> FxRate:
    from payments import selectors as payments_selectors

    try:
        found = payments_selectors.fx_rate(base, quote, on)
    except DomainError:
        found = None  # no rate booked there yet: fall back to the reference rates
    if found is not None:
        return FxRate(base, quote, Decimal(str(found.rate)).quantize(RATE_PLACES, ROUND_HALF_UP), found.as_of, "payments")
    from core.models import Currency

    rows = {c.code: c for c in Currency.objects.filter(code__in=[base, quote])}
    if len(rows) < 2 or rows[base].usd_per_unit is None or rows[quote].usd_per_unit is None:
        message = _("No exchange rate from %(base)s to %(quote)s.") % {"base": base, "quote": quote}
        raise DomainError(ErrorCode.FX_RATE_MISSING, message, {"currency": [message]})
    rate = (rows[base].usd_per_unit / rows[quote].usd_per_unit).quantize(RATE_PLACES, ROUND_HALF_UP)
    dates = [d for d in (rows[base].rate_date, rows[quote].rate_date) if d]
    # A cross rate is as old as its older leg.
    return FxRate(base, quote, rate, min(dates) if dates else None, "reference/currencies.csv")
