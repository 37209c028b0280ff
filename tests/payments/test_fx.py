"""FX: rates with source and date, quotes that account for every minor unit, conversions."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.errors import DomainError
from core.money import Money
from payments import selectors, services
from payments.interface import Owner
from payments.models import FxRate

from .helpers import assert_ledger_consistent, platform_minor, wallet_minor

pytestmark = pytest.mark.django_db


def test_cross_rates_come_from_the_reference_usd_rates(currencies):
    eur_kzt = selectors.fx_rate("EUR", "KZT")
    assert eur_kzt.rate == (Decimal("1.1681") / Decimal("0.001979")).quantize(Decimal("1e-9"))
    assert eur_kzt.as_of == date(2025, 3, 17)  # the older of the two rates governs
    usd_kzt = selectors.fx_rate("USD", "KZT")
    assert usd_kzt.rate.quantize(Decimal("0.01")) == Decimal("505.31") and "bcc.kz" in usd_kzt.source
    assert selectors.fx_rate("KZT", "KZT").rate == 1


def test_a_rate_on_a_date_uses_the_latest_published_by_then(currencies):
    FxRate.objects.create(currency_id="KZT", usd_per_unit=Decimal("0.002"), as_of=date(2026, 1, 10),
                          provider="test", source="later", loaded_at="2026-01-10T00:00Z")
    assert selectors.fx_rate("USD", "KZT", date(2026, 1, 9)).as_of == date(2025, 3, 17)
    assert selectors.fx_rate("USD", "KZT", date(2026, 1, 10)).rate == Decimal("500")


def test_a_currency_without_rates_is_fx_rate_missing(currencies):
    FxRate.objects.filter(currency_id="TMT").delete()
    with pytest.raises(DomainError) as err:
        selectors.fx_rate("TMT", "CNY")
    assert err.value.code == "fx_rate_missing" and err.value.status == 409


@pytest.mark.parametrize(("amount", "to"), [("100.00", "KZT"), ("0.07", "UZS"), ("123456.78", "USD"),
                                           ("1000.01", "TMT"), ("9.99", "KGS")])
def test_a_quote_accounts_for_every_minor_unit(currencies, amount, to):
    quote = services.conversion_quote(amount=Money.of(amount, "CNY"), to_currency=to)
    assert quote.cost + quote.fee + quote.rounding == quote.amount
    assert quote.rounding.minor >= 0
    per_minor = quote.mid_rate.scaleb(0)  # both currencies have 2 minor digits
    # what was bought is worth at most the cost, and one more target minor unit would cost more
    assert Decimal(quote.receive.minor) <= Decimal(quote.cost.minor) * per_minor
    assert Decimal(quote.receive.minor + 1) > Decimal(quote.cost.minor + quote.rounding.minor) * per_minor
    assert quote.fee == Money.of(amount, "CNY").times(Decimal("0.005"))


def test_uzs_to_cny_rounding_remainder_goes_to_its_own_account(alice, fund):
    owner = Owner.user(alice)
    fund(owner, "100000.00", "UZS")
    result = services.wallet_convert(owner=owner, amount=Money.of("12345.67", "UZS"), to_currency="CNY",
                                     idempotency_key="c1", actor=alice)
    q = result.quote
    assert wallet_minor(owner, "UZS") == 10000000 - 1234567
    assert wallet_minor(owner, "CNY") == q.receive.minor > 0
    assert platform_minor("fx_spread", "UZS") == q.fee.minor
    assert platform_minor("fx_rounding", "UZS") == q.rounding.minor
    assert platform_minor("fx", "UZS") == q.cost.minor and platform_minor("fx", "CNY") == -q.receive.minor
    assert_ledger_consistent()


def test_the_spread_is_configurable_and_shown(currencies, settings):
    settings.PAYMENTS_FX_SPREAD = "0.02"
    quote = services.conversion_quote(amount=Money.of("100.00", "CNY"), to_currency="KZT")
    assert quote.spread == Decimal("0.02") and quote.fee == Money.of("2.00", "CNY")
    assert quote.rate == (quote.mid_rate * Decimal("0.98")).quantize(quote.rate)


def test_an_amount_too_small_to_buy_one_minor_unit_is_refused(currencies):
    with pytest.raises(DomainError) as err:
        services.conversion_quote(amount=Money.of("0.01", "UZS"), to_currency="USD")
    assert err.value.code == "invalid_amount" and "amount" in err.value.fields


def test_load_fx_rates_reads_a_json_file_and_is_idempotent(currencies, tmp_path):
    path = tmp_path / "rates.json"
    path.write_text(json.dumps({"date": "2026-02-01", "base": "USD", "rates": {"KZT": "520", "CNY": "7.0"}}))
    call_command("load_fx_rates", source=str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("load_fx_rates", source=str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert FxRate.objects.filter(provider="url", as_of=date(2026, 2, 1)).count() == 3  # KZT, CNY, USD
    assert selectors.fx_rate("CNY", "KZT", date(2026, 2, 2)).rate.quantize(Decimal("0.0001")) == Decimal("74.2857")


def test_load_fx_rates_reads_csv(currencies, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("code,usd_per_unit,rate_date\nUZS,0.00008,2026-03-01\n")
    assert services.fx_rates_load(source=str(path)) == 1
    assert selectors.fx_rate("USD", "UZS", date(2026, 3, 1)).rate == Decimal("12500")


def test_a_malformed_rate_file_is_a_clear_error(currencies, tmp_path):
    path = tmp_path / "rates.json"
    path.write_text('{"rates": {}}')
    with pytest.raises(DomainError) as err:
        services.fx_rates_load(source=str(path))
    assert "malformed" in err.value.message
