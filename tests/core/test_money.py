from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError
from core.money import CurrencyMismatch, Money, currencies


def test_exponents_come_from_the_reference_data():
    assert currencies()["KZT"] == 2
    assert set(currencies()) >= {"CNY", "KZT", "UZS", "KGS", "TJS", "TMT", "USD"}


def test_decimal_amount_becomes_exact_minor_units():
    assert Money.of("1234.50", "KZT") == Money(123450, "KZT")
    assert Money.of(Decimal("0.01"), "CNY").minor == 1
    assert Money.of("1234.5", "KZT").decimal_str() == "1234.50"


def test_more_digits_than_the_currency_has_is_refused():
    with pytest.raises(DomainError) as err:
        Money.of("1.005", "USD")
    assert err.value.code == "invalid_amount"


def test_floats_are_refused_everywhere():
    with pytest.raises(TypeError):
        Money.of(1.5, "USD")
    with pytest.raises(TypeError):
        Money(1.5, "USD")
    with pytest.raises(TypeError):
        Money(100, "USD").times(1.1)


def test_unknown_currency_is_a_domain_error():
    with pytest.raises(DomainError) as err:
        Money(1, "XXX")
    assert err.value.code == "unknown_currency"


def test_mixing_currencies_raises():
    with pytest.raises(CurrencyMismatch):
        Money(1, "KZT") + Money(1, "CNY")
    with pytest.raises(CurrencyMismatch):
        assert Money(1, "KZT") < Money(1, "CNY")


def test_rate_multiplication_rounds_half_up_to_the_minor_unit():
    assert Money(1001, "KZT").times(Decimal("0.15")) == Money(150, "KZT")  # 150.15 -> 150
    assert Money(1010, "KZT").times(Decimal("0.15")) == Money(152, "KZT")  # 151.5 -> 152
    assert Money(100, "USD").convert("505.20", "KZT") == Money(50520, "KZT")


def test_api_shape_has_exactly_the_minor_digits():
    assert Money(123450, "KZT").to_api() == {"amount": "1234.50", "currency": "KZT"}
    assert Money(-5, "USD").to_api() == {"amount": "-0.05", "currency": "USD"}
    assert Money.from_api({"amount": "12.30", "currency": "usd"}) == Money(1230, "USD")


def test_api_amount_as_float_is_refused():
    with pytest.raises(DomainError):
        Money.from_api({"amount": 12.3, "currency": "USD"})


@pytest.mark.parametrize(
    ("money", "language", "expected"),
    [
        (Money(123450, "KZT"), "ru", "1\u00a0234,50\u00a0₸"),
        (Money(123450, "CNY"), "zh-hans", "¥1,234.50"),
        (Money(1234500, "UZS"), "uz", "12\u00a0345\u00a0soʻm"),
        (Money(1234550, "UZS"), "ru", "12\u00a0345,50\u00a0soʻm"),
        (Money(1050, "USD"), "en", "$10.50"),
    ],
)
def test_formatting_follows_the_locale_with_the_home_symbol(money, language, expected):
    assert money.format(language) == expected


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["CNY", "KZT", "UZS", "USD"]))
def test_decimal_round_trip_is_exact(minor, currency):
    money = Money(minor, currency)
    assert Money.of(money.decimal_str(), currency) == money
