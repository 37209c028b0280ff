"""format_money's own formatter (patterns taken from Babel once per currency and locale) writes
exactly what Babel's format_currency writes, for every currency of the reference data in every
language of the site, whole and fractional amounts, negative ones, and very large ones."""

import random

import pytest
from babel.numbers import format_currency

from core.money import Money, _pattern_without_fraction, _symbols, babel_locale, currencies, format_money

LANGUAGES = ["en", "ru", "zh-hans", "kk", "uz", "de"]


def babel_money(money: Money, language: str) -> str:
    """format_money as it was written over format_currency (the reference)."""
    loc = babel_locale(language)
    amount = money.amount
    pattern = None
    if money.currency == "UZS" and amount == amount.to_integral_value():
        pattern = _pattern_without_fraction(loc)
    text = format_currency(amount, money.currency, locale=loc, format=pattern, currency_digits=pattern is None)
    local_symbol, home_symbol = _symbols(money.currency, loc)
    if local_symbol == home_symbol:
        return text
    if home_symbol[-1].isalpha() and text.lstrip("-").startswith(local_symbol):
        home_symbol += "\u00a0"
    return text.replace(local_symbol, home_symbol, 1)


AMOUNTS = [0, 1, -1, 5, 99, 100, 999, 1000, 99999, 100000, -12345, 10**6, 10**9 + 7, 123456789012, 10**15,
           *random.Random(14).sample(range(-10**12, 10**12), 40), *(n * 100 for n in random.Random(7).sample(range(1, 10**7), 15))]


@pytest.mark.parametrize("language", LANGUAGES)
def test_format_money_writes_what_babel_writes(language):
    for currency in currencies():
        for minor in AMOUNTS:
            money = Money(minor, currency)
            assert format_money(money, language) == babel_money(money, language), (money, language)


def test_format_money_examples():
    assert format_money(Money(1234550, "KZT"), "ru") == "12\u00a0345,50\u00a0₸"
    assert format_money(Money(1234500, "UZS"), "uz") == "12\u00a0345\u00a0soʻm"
    assert format_money(Money(12345, "CNY"), "zh-hans") == "¥123.45"
