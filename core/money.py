"""Exact money: integer minor units and an ISO 4217 currency.

Exponents come from reference/currencies.csv (read once, no database hit). Floats are refused.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from babel.numbers import get_currency_symbol

from .errors import DomainError, ErrorCode

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"

# The symbol people write at home, which CLDR does not give in every locale
# (e.g. Russian CLDR prints "KZT" where a Kazakh shopper expects "₸").
HOME_LOCALE = {
    "CNY": "zh_Hans_CN",
    "KZT": "kk_KZ",
    "UZS": "uz_Latn_UZ",
    "KGS": "ky_KG",
    "TJS": "tg_TJ",
    "TMT": "tk_TM",
    "USD": "en_US",
    "EUR": "de_DE",
}
# Tiyin are out of circulation: prices in sum are shown whole when they are whole.
WHOLE_WHEN_ROUND = {"UZS"}
# A cap far above any real order, so that absurd inputs fail validation rather than overflow.
MAX_MINOR = 10**15


@lru_cache(maxsize=1)
def currencies() -> dict[str, int]:
    """Currency code -> number of minor digits, from the reference data."""
    with open(REFERENCE_DIR / "currencies.csv", newline="", encoding="utf-8") as fh:
        return {row["code"]: int(row["minor_units"]) for row in csv.DictReader(fh)}


def check_currency(code: str, field: str = "currency") -> str:
    code = (code or "").upper() if isinstance(code, str) else repr(code)  # a list or a number is no currency
    if code not in currencies():
        raise DomainError(ErrorCode.UNKNOWN_CURRENCY, f"Unknown currency {code!r}.", {field: [f"Unknown currency {code!r}."]})
    return code


class CurrencyMismatch(DomainError):
    def __init__(self, a: str, b: str):
        super().__init__(ErrorCode.CURRENCY_MISMATCH, f"Cannot combine {a} and {b}.")


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self):
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError(f"Money.minor must be an int, not {type(self.minor).__name__}")
        if self.currency not in currencies():
            raise DomainError(ErrorCode.UNKNOWN_CURRENCY, f"Unknown currency {self.currency!r}.")

    # --- construction ---------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str, field: str = "amount") -> Money:
        """Exact decimal amount -> Money. More fractional digits than the currency has is an error."""
        currency = check_currency(currency)
        if isinstance(amount, float):
            raise TypeError("Money.of refuses floats: pass a str or Decimal")
        try:
            value = Decimal(str(amount).strip())
        except (InvalidOperation, ValueError):
            raise DomainError(ErrorCode.INVALID_AMOUNT, f"{amount!r} is not a number.", {field: ["Not a number."]}) from None
        if not value.is_finite():
            raise DomainError(ErrorCode.INVALID_AMOUNT, "Amount must be finite.", {field: ["Must be finite."]})
        exp = currencies()[currency]
        scaled = value.scaleb(exp)
        if scaled != scaled.to_integral_value():
            msg = f"{currency} has {exp} decimal places."
            raise DomainError(ErrorCode.INVALID_AMOUNT, msg, {field: [msg]})
        minor = int(scaled)
        if abs(minor) > MAX_MINOR:
            raise DomainError(ErrorCode.INVALID_AMOUNT, "Amount is too large.", {field: ["Amount is too large."]})
        return cls(minor, currency)

    @classmethod
    def from_api(cls, data: dict, field: str = "amount") -> Money:
        if not isinstance(data, dict) or "amount" not in data or "currency" not in data:
            raise DomainError(ErrorCode.VALIDATION, "Money needs amount and currency.", {field: ['Expected {"amount": "...", "currency": "..."}.']})
        if isinstance(data["amount"], float):
            raise DomainError(ErrorCode.INVALID_AMOUNT, "Send amounts as decimal strings.", {field: ["Send the amount as a decimal string."]})
        return cls.of(data["amount"], check_currency(data["currency"], field), field)

    # --- arithmetic ---------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def __bool__(self) -> bool:
        return self.minor != 0

    def times(self, factor: int | Decimal | str, rounding: str = ROUND_HALF_UP) -> Money:
        """Multiply by a quantity or a rate, rounding to the minor unit (half-up by default)."""
        if isinstance(factor, float):
            raise TypeError("Money.times refuses floats: pass a Decimal")
        if isinstance(factor, int) and not isinstance(factor, bool):
            return Money(self.minor * factor, self.currency)
        product = Decimal(self.minor) * Decimal(str(factor))
        return Money(int(product.to_integral_value(rounding=rounding)), self.currency)

    def convert(self, rate: Decimal | str, to: str, rounding: str = ROUND_HALF_UP) -> Money:
        """Convert at ``rate`` units of ``to`` per unit of this currency, rounding once."""
        to = check_currency(to)
        value = self.amount * Decimal(str(rate))
        scaled = value.scaleb(currencies()[to]).to_integral_value(rounding=rounding)
        return Money(int(scaled), to)

    # --- output ---------------------------------------------------------------
    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-currencies()[self.currency])

    def decimal_str(self) -> str:
        """Exactly the currency's minor digits: '1234.50'."""
        exp = currencies()[self.currency]
        return f"{self.amount:.{exp}f}"

    def to_api(self) -> dict:
        return {"amount": self.decimal_str(), "currency": self.currency}

    def format(self, locale: str = "en") -> str:
        return format_money(self, locale)

    def __str__(self) -> str:
        return f"{self.decimal_str()} {self.currency}"


def babel_locale(language: str) -> str:
    """Django language code -> Babel locale."""
    return {"zh-hans": "zh_Hans_CN", "zh": "zh_Hans_CN", "kk": "kk_KZ", "uz": "uz_Latn_UZ", "ru": "ru_RU"}.get(
        (language or "en").lower(), "en"
    )


def format_money(money: Money, language: str = "en") -> str:
    """Locale number format with the currency's home symbol: '1 234,50 ₸', '¥1,234.50', '12 345 soʻm'."""
    loc = babel_locale(language)
    exp = currencies()[money.currency]
    whole = money.currency in WHOLE_WHEN_ROUND and money.minor % 10**exp == 0
    compiled = _compiled(money.currency, loc, whole)
    if compiled is not None:
        # The same text, without Babel per price: a page of 24 cards spent an eighth of its time in
        # NumberPattern.apply (tests/core/test_money_format.py compares the two for every currency).
        prefixes, suffixes, group, decimal, sizes = compiled
        negative = money.minor < 0
        units, fraction = divmod(abs(money.minor), 10**exp)
        digits = str(units)
        groups = []
        size = sizes[0]
        while len(digits) > size:
            groups.append(digits[-size:])
            digits = digits[:-size]
            size = sizes[1]
        groups.append(digits)
        number = group.join(reversed(groups))
        if exp and not whole:
            number += decimal + str(fraction).zfill(exp)
        return prefixes[negative] + number + suffixes[negative]
    return _format_with_babel(money, loc, whole)


def _format_with_babel(money: Money, loc: str, whole: bool) -> str:
    """format_money through Babel's format_currency (the reference :func:`_compiled` matches)."""
    amount = money.amount
    # What format_currency(amount, currency, locale=loc, format=..., currency_digits=not whole) does,
    # with the parsed locale and pattern remembered (a third of its time went to parsing them again).
    locale, pattern = _currency_format(loc, whole)
    text = pattern.apply(amount, locale, currency=money.currency, currency_digits=not whole)
    return _home_symbol(text, money.currency, loc)


def _home_symbol(text: str, currency: str, loc: str) -> str:
    """``text`` with the currency's symbol in ``loc`` replaced by the one used at home."""
    local_symbol, home_symbol = _symbols(currency, loc)
    if local_symbol == home_symbol:
        return text
    if home_symbol[-1].isalpha() and text.lstrip("-").startswith(local_symbol):
        home_symbol += "\u00a0"  # a word such as soʻm needs a space before the digits
    return text.replace(local_symbol, home_symbol, 1)


@lru_cache(maxsize=256)
def _symbols(currency: str, loc: str) -> tuple[str, str]:
    """The currency's symbol in ``loc`` and at home: remembered, as a page of 24 prices asked
    Babel's locale data for them 48 times (a tenth of a storefront page's rendering)."""
    return (get_currency_symbol(currency, locale=loc),
            get_currency_symbol(currency, locale=HOME_LOCALE.get(currency, "en")))


@lru_cache(maxsize=256)
def _compiled(currency: str, loc: str, whole: bool):
    """What a price in ``currency`` looks like in ``loc``, taken from Babel's pattern once: the text
    before and after the number (positive, negative; symbols already replaced by the home one),
    the group and decimal signs and the group sizes. None when the pattern asks for more than
    this plain form (Babel then formats every price)."""
    from babel.numbers import get_currency_precision, get_decimal_symbol, get_group_symbol

    locale, pattern = _currency_format(loc, whole)
    exp = currencies()[currency]
    plain = (pattern.scale == 0 and pattern.exp_prec is None and pattern.int_prec[0] <= 1 and pattern.number_pattern
             and min(pattern.grouping) > 0 and (whole or get_currency_precision(currency) == exp)
             and (not whole or pattern.frac_prec == (0, 0)))
    if not plain:
        return None
    symbol = get_currency_symbol(currency, locale=locale)
    ends = []
    for negative in (0, 1):
        raw = pattern.prefix[negative] + "\x00" + pattern.suffix[negative]
        if "\u00a4\u00a4" in raw:
            return None  # the code or the name of the currency, not its symbol
        text = _home_symbol(raw.replace("\u00a4", symbol), currency, loc)
        if text.count("\x00") != 1:
            return None
        ends.append(text.split("\x00"))
    return ((ends[0][0], ends[1][0]), (ends[0][1], ends[1][1]), get_group_symbol(locale, numbering_system="latn"),
            get_decimal_symbol(locale, numbering_system="latn"), pattern.grouping)


@lru_cache(maxsize=16)
def _currency_format(loc: str, whole: bool):
    """The Babel locale of ``loc`` and its standard currency pattern (without the fraction when
    ``whole``), parsed once per process."""
    from babel import Locale
    from babel.numbers import parse_pattern

    locale = Locale.parse(loc)
    return locale, parse_pattern(_pattern_without_fraction(loc)) if whole else locale.currency_formats["standard"]


@lru_cache(maxsize=16)
def _pattern_without_fraction(loc: str) -> str:
    from babel import Locale

    pattern = Locale.parse(loc).currency_formats["standard"].pattern
    return pattern.split(";")[0].replace(".00", "").replace(".##", "")
