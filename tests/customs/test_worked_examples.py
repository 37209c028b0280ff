"""Worked examples per jurisdiction, each against a hand computation with the rule it follows.

Rates used (reference/currencies.csv, crossed through USD, as printed in the quote's ``fx``):
EUR→KZT 590.2475997980, USD→UZS 12927.1619062, UZS→USD 0.0000773565, USD→TJS 9.4062758673,
USD→TMT 3.5000035, EUR→KGS 102.6269548410. Every tax line is rounded half-up to the tiyn/fen/tiyin.
The reference rates carry no date range, so a quote dated after 2026-07-01 uses these same rates.
"""

from decimal import Decimal

import pytest

from core.errors import DomainError
from core.money import Money
from core.texts import render
from customs import services
from customs.models import ParcelRule, TariffLine

from .conftest import d, line

pytestmark = pytest.mark.django_db


def en(message) -> str:
    return render(message, "en")


def quote(dest, currency, lines, shipping="0", origin="CN", date="2026-03-01", **kw):
    goods_currency = lines[0].unit_price.currency
    return services.quote(origin_country=origin, destination_country=dest, currency=currency, lines=lines,
                          shipping=Money.of(shipping, goods_currency), insurance=Money.zero(goods_currency), date=d(date), **kw)


def kinds(q, kind):
    return [item for item in q.breakdown if item.kind == kind]


def rate(q, base, to):
    return next(r.rate for r in q.fx if (r.base, r.quote) == (base, to))


# --- Kazakhstan (EAEU): 200 EUR / 31 kg per parcel since 2024-04-01 --------------------------------


def test_kz_below_the_threshold_pays_nothing(tariff):
    # 100,000 KZT < 200 EUR × 590.2475997980 = 118,049.52 KZT; 0.35 kg < 31 kg → nothing due.
    q = quote("KZ", "KZT", [line("851713", "100000", "KZT", kg="0.350")], shipping="5000")
    assert q.regime == "eaeu_personal_parcel"
    assert q.taxes_total == Money.of("0", "KZT")
    assert q.landed_cost == Money.of("105000", "KZT")
    assert rate(q, "EUR", "KZT") == Decimal("590.2475997980")
    assert "₸118,049.52" in en(kinds(q, "allowance")[0].rule)


def test_kz_exactly_at_the_threshold_pays_nothing(tariff):
    # Goods value = the limit in KZT: nothing is *above* 200 EUR.
    q = quote("KZ", "KZT", [line("851713", "118049.52", "KZT")])
    assert q.duty == Money.of("0", "KZT")


def test_kz_above_the_value_threshold_pays_15_percent_of_the_excess(tariff):
    # Freight is not part of a parcel's value: 2 × 150,000 = 300,000 KZT.
    # Excess 300,000 − 118,049.52 = 181,950.48; 15% = 27,292.572 → 27,292.57 (weight term 0: 0.7 kg).
    q = quote("KZ", "KZT", [line("851713", "150000", "KZT", qty=2, kg="0.350")], shipping="5000")
    [payment] = kinds(q, "parcel_payment")
    assert payment.base == Money.of("181950.48", "KZT")
    assert payment.amount == Money.of("27292.57", "KZT")
    assert q.duty == Money.of("27292.57", "KZT") and q.vat == Money.of("0", "KZT")  # one payment replaces duty and VAT
    assert q.landed_cost == Money.of("332292.57", "KZT")  # 300,000 + 5,000 + 27,292.57


def test_kz_above_the_weight_limit_pays_2_eur_per_kg_over_31(tariff):
    # 40 kg of dried fruit worth 50,000 KZT: value under the limit, 9 kg over 31 kg.
    # 9 × 2 EUR = 18 EUR × 590.2475997980 = 10,624.4568 → 10,624.46 KZT.
    q = quote("KZ", "KZT", [line("081310", "50000", "KZT", kg="40.000")])
    assert q.duty == Money.of("10624.46", "KZT")


def test_kz_over_both_limits_pays_the_larger_term(tariff):
    # value term 27,292.57 (above) > weight term 10,624.46 → 27,292.57.
    q = quote("KZ", "KZT", [line("851713", "150000", "KZT", qty=2, kg="20.000")])
    assert q.duty == Money.of("27292.57", "KZT")


def test_kz_temporary_1000_eur_limit_applies_on_its_dates(tariff):
    # 2023-06-01: 1,000 EUR = 590,247.60 KZT limit → 300,000 KZT pays nothing.
    q = quote("KZ", "KZT", [line("851713", "150000", "KZT", qty=2)], date="2023-06-01")
    assert q.duty == Money.of("0", "KZT")
    assert "€1,000.00" in en(kinds(q, "allowance")[0].rule)


def test_eaeu_rule_switches_to_ecommerce_goods_on_2026_07_01(tariff):
    # The dates are the reference rows' (old row effective_to 2026-06-30, e-commerce row effective_from 2026-07-01).
    old, new = (ParcelRule.objects.get(jurisdiction="EAEU", method=m, effective_from=d(start))
                for m, start in (("excess_single_payment", "2024-04-01"), ("full_value_ecommerce", "2026-07-01")))
    assert (old.effective_to, new.effective_to, new.in_force) == (d("2026-06-30"), None, True)
    assert (new.rate_percent, new.per_kg, new.per_kg_basis, new.weight_limit_kg) == (Decimal("5"), Decimal("1"), "total", None)
    june = quote("KZ", "KZT", [line("851713", "150000", "KZT", qty=2)], date="2026-06-30")
    july = quote("KZ", "KZT", [line("851713", "150000", "KZT", qty=2)], date="2026-07-01")
    assert june.regime == "eaeu_personal_parcel" and kinds(june, "parcel_payment")[0].rate == Decimal("15")
    assert july.regime == "eaeu_ecommerce" and kinds(july, "duty")[0].rate == Decimal("5")
    assert not kinds(july, "parcel_payment")


def test_kg_uses_the_same_eaeu_rule_in_som(tariff):
    # 200 EUR × 102.6269548410 = 20,525.39 KGS; 30,000 − 20,525.39 = 9,474.61 × 15% = 1,421.1915 → 1,421.19.
    q = quote("KG", "KGS", [line("851713", "30000", "KGS")])
    assert q.duty == Money.of("1421.19", "KGS")


# --- Kazakhstan and Kyrgyzstan (EAEU) from 2026-07-01: e-commerce goods ----------------------------------
# Nothing due up to 200 EUR of goods value (no weight limit); above it duty = the larger of 5% of the
# WHOLE value and 1 EUR per kg of gross weight, plus import VAT at the standard rate on value + duty.
# Prices are in EUR here: each line is converted to the tax currency first (half-up to the tiyn/tyiyn).


def test_kz_ecommerce_150_eur_pays_nothing(tariff):
    """150 EUR, 0.5 kg, quoted 2026-07-15.

    Value: 150 × 590.2475997980 = 88,537.1399697 → 88,537.14 KZT.
    Limit: 200 × 590.2475997980 = 118,049.5199596 → 118,049.52 KZT.
    88,537.14 ≤ 118,049.52 → nothing due (the weight does not matter: there is no weight limit).
    """
    q = quote("KZ", "KZT", [line("851713", "150", "EUR")], date="2026-07-15")
    assert q.regime == "eaeu_ecommerce"
    assert rate(q, "EUR", "KZT") == Decimal("590.2475997980")
    assert q.customs_value == Money.of("88537.14", "KZT")
    assert q.taxes_total == Money.of("0", "KZT")
    assert [i.kind for i in q.breakdown] == ["allowance", "fee"]  # the KZ postal/express customs fee is 0%
    assert "₸118,049.52" in en(kinds(q, "allowance")[0].rule) and "no weight limit" in en(kinds(q, "allowance")[0].rule)


def test_kz_ecommerce_heavy_150_eur_parcel_still_pays_nothing(tariff):
    """150 EUR but 45 kg on 2026-07-15: the 31 kg limit is gone, so nothing is due (before, 14 kg × 2 EUR)."""
    q = quote("KZ", "KZT", [line("081310", "150", "EUR", kg="45.000")], date="2026-07-15")
    assert q.taxes_total == Money.of("0", "KZT")


def test_kz_ecommerce_300_eur_pays_5_percent_of_the_whole_value_and_16_percent_vat(tariff):
    """300 EUR, 2 kg, quoted 2026-07-15; EUR→KZT 590.2475997980; KZ VAT 16% (since 2026-01-01).

    Value: 300 × 590.2475997980 = 177,074.2799394 → 177,074.28 KZT (> 118,049.52: above the limit).
    Value term: 5% × 177,074.28 (the WHOLE value) = 8,853.714 → 8,853.71 KZT.
    Weight term: 2 kg × 1 EUR = 2 EUR × 590.2475997980 = 1,180.495199596 → 1,180.50 KZT.
    Duty = the larger = 8,853.71 KZT.
    VAT: 16% × (177,074.28 + 8,853.71 = 185,927.99) = 29,748.4784 → 29,748.48 KZT.
    Taxes 8,853.71 + 29,748.48 = 38,602.19 KZT; landed 177,074.28 + 38,602.19 = 215,676.47 KZT
    (about 365 EUR: the KZ explainer's "300 EUR order, about 360 EUR landed").
    """
    q = quote("KZ", "KZT", [line("851713", "300", "EUR", kg="2.000")], date="2026-07-15")
    assert q.regime == "eaeu_ecommerce"
    [duty] = kinds(q, "duty")
    assert (duty.base, duty.rate, duty.amount) == (Money.of("177074.28", "KZT"), Decimal("5"), Money.of("8853.71", "KZT"))
    assert "₸1,180.50" in en(duty.rule)  # the weight term it beat
    [vat] = kinds(q, "vat")
    assert (vat.base, vat.rate, vat.amount) == (Money.of("185927.99", "KZT"), Decimal("16"), Money.of("29748.48", "KZT"))
    assert (q.duty, q.vat) == (Money.of("8853.71", "KZT"), Money.of("29748.48", "KZT"))
    assert q.taxes_total == Money.of("38602.19", "KZT")
    assert q.landed_cost == Money.of("215676.47", "KZT")
    assert not kinds(q, "parcel_payment")
    assert any("not refunded" in en(w) for w in q.warnings)
    assert any("partially verified" in en(w) for w in q.warnings)


def test_kz_ecommerce_heavy_cheap_parcel_pays_1_eur_per_kg(tariff):
    """250 EUR, 40 kg of dried fruit, quoted 2026-07-15.

    Value: 250 × 590.2475997980 = 147,561.8999495 → 147,561.90 KZT (> 118,049.52).
    Value term: 5% × 147,561.90 = 7,378.095 → 7,378.10 KZT (half-up).
    Weight term: 40 kg × 1 EUR = 40 EUR × 590.2475997980 = 23,609.90399192 → 23,609.90 KZT (all 40 kg
    count: gross weight, no 31 kg deduction). Duty = the larger = 23,609.90 KZT.
    VAT: 16% × (147,561.90 + 23,609.90 = 171,171.80) = 27,387.488 → 27,387.49 KZT.
    Taxes 23,609.90 + 27,387.49 = 50,997.39 KZT.
    """
    q = quote("KZ", "KZT", [line("081310", "250", "EUR", kg="40.000")], date="2026-07-15")
    [duty] = kinds(q, "duty")
    assert duty.amount == Money.of("23609.90", "KZT") and duty.rate is None
    assert "40 kg" in en(duty.rule) and "₸7,378.10" in en(duty.rule)
    assert kinds(q, "vat")[0].base == Money.of("171171.80", "KZT")
    assert (q.duty, q.vat) == (Money.of("23609.90", "KZT"), Money.of("27387.49", "KZT"))
    assert q.taxes_total == Money.of("50997.39", "KZT")


def test_kz_same_300_eur_parcel_quoted_before_july_keeps_the_old_rule(tariff):
    """The 300 EUR, 2 kg parcel quoted on 2026-06-15: 200 EUR / 31 kg single payment, no VAT.

    Value 177,074.28 KZT (as above); excess over the limit 177,074.28 − 118,049.52 = 59,024.76 KZT.
    Value term: 15% × 59,024.76 = 8,853.714 → 8,853.71 KZT (15% of 100 EUR = 5% of 300 EUR: the same
    duty as in July, by coincidence). Weight term: 2 kg < 31 kg → 0. VAT: none (one payment replaces
    duty and VAT). Taxes 8,853.71 KZT, against 38,602.19 KZT from 2026-07-01.
    """
    q = quote("KZ", "KZT", [line("851713", "300", "EUR", kg="2.000")], date="2026-06-15")
    assert q.regime == "eaeu_personal_parcel"
    [payment] = kinds(q, "parcel_payment")
    assert (payment.base, payment.rate, payment.amount) == (Money.of("59024.76", "KZT"), Decimal("15"), Money.of("8853.71", "KZT"))
    assert not kinds(q, "duty") and not kinds(q, "vat")
    assert q.vat == Money.of("0", "KZT")
    assert q.taxes_total == Money.of("8853.71", "KZT")


def test_kg_ecommerce_pays_12_percent_vat(tariff):
    """400 EUR, 3 kg to Kyrgyzstan, quoted 2026-07-15; EUR→KGS 102.6269548410; KG VAT 12%.

    Value: 400 × 102.6269548410 = 41,050.7819364 → 41,050.78 KGS.
    Limit: 200 × 102.6269548410 = 20,525.3909682 → 20,525.39 KGS (exceeded).
    Value term: 5% × 41,050.78 = 2,052.539 → 2,052.54 KGS.
    Weight term: 3 EUR × 102.6269548410 = 307.880864523 → 307.88 KGS. Duty = 2,052.54 KGS.
    VAT: 12% × (41,050.78 + 2,052.54 = 43,103.32) = 5,172.3984 → 5,172.40 KGS.
    Taxes 2,052.54 + 5,172.40 = 7,224.94 KGS.
    """
    q = quote("KG", "KGS", [line("851713", "400", "EUR", kg="3.000")], date="2026-07-15")
    assert q.regime == "eaeu_ecommerce"
    assert rate(q, "EUR", "KGS") == Decimal("102.6269548410")
    assert kinds(q, "vat")[0].rate == Decimal("12")
    assert (q.duty, q.vat) == (Money.of("2052.54", "KGS"), Money.of("5172.40", "KGS"))
    assert q.taxes_total == Money.of("7224.94", "KGS")


# --- Kazakhstan commercial import: VAT 12% → 16% on 2026-01-01 ----------------------------------------


@pytest.fixture
def kz_phone_duty(tariff):
    return TariffLine.objects.create(hs_code="851713", country="KZ", description="Smartphones (test rate)",
                                     duty_percent=Decimal("5"), effective_from=d("2020-01-01"), source="test")


@pytest.mark.parametrize(("date", "vat"), [("2025-12-31", "133560.00"), ("2026-01-01", "178080.00")])
def test_release_from_bond_uses_the_vat_in_force_on_its_date(kz_phone_duty, date, vat):
    # CV = 1,000,000 + 50,000 freight + 10,000 insurance = 1,060,000; duty 5% = 53,000;
    # VAT on 1,113,000: 12% = 133,560 until 2025-12-31, 16% = 178,080 from 2026-01-01.
    q = services.quote(origin_country="CN", destination_country="KZ", currency="KZT",
                       lines=[line("851713", "100000", "KZT", qty=10)], shipping=Money.of("50000", "KZT"),
                       insurance=Money.of("10000", "KZT"), date=d(date), channel="b2b")
    assert q.regime == "release_from_bond"
    assert q.customs_value == Money.of("1060000", "KZT")
    assert q.duty == Money.of("53000", "KZT")
    assert q.vat == Money.of(vat, "KZT")
    assert q.taxes_total == q.duty + q.vat


def test_release_from_bond_without_a_duty_rate_is_refused_not_zero(tariff):
    with pytest.raises(DomainError) as exc:
        quote("KZ", "KZT", [line("851713", "100000", "KZT")], channel="b2b")
    assert exc.value.code == "tariff_rate_missing" and "lines.0.hs_code" in exc.value.fields


@pytest.mark.parametrize(("date", "included"), [("2025-12-31", "12000.00"), ("2026-01-01", "16000.00")])
def test_released_stock_sold_in_kazakhstan_includes_domestic_vat(tariff, date, included):
    # 2025: 112,000 × 12/112 = 12,000; 2026: 116,000 × 16/116 = 16,000 — shown, never added.
    price = "112000" if date < "2026" else "116000"
    q = quote("KZ", "KZT", [line("851713", price, "KZT")], date=date, channel="domestic")
    assert q.regime == "domestic" and q.taxes_total == Money.of("0", "KZT")
    assert kinds(q, "vat_included")[0].amount == Money.of(included, "KZT")


# --- China: cross-border retail import (CBEC) -------------------------------------------------------------


def test_cn_cbec_food_pays_9_percent_vat_times_70_percent(tariff):
    # Dried apricots (0813, VAT 9%): 2 × 150 + 40 freight = 340 CNY; 9% × 70% = 6.3% → 21.42 CNY; duty 0.
    q = quote("CN", "CNY", [line("081310", "150", "CNY", qty=2)], shipping="40", origin="UZ")
    assert q.regime == "cn_cbec_9610"
    assert q.duty == Money.of("0", "CNY")
    assert q.vat == Money.of("21.42", "CNY")
    assert q.landed_cost == Money.of("361.42", "CNY")


def test_cn_cbec_mixed_lines_share_freight_and_take_each_lines_vat(tariff):
    # Honey 200 (9%, inferred) + chocolate 100 (no line VAT → 13%), freight 30 shared 20/10.
    # Honey 220 × 6.3% = 13.86; chocolate 110 × 9.1% = 10.01; total 23.87.
    q = quote("CN", "CNY", [line("040900", "200", "CNY"), line("180690", "100", "CNY")], shipping="30", origin="KZ")
    assert [i.amount for i in kinds(q, "vat")] == [Money.of("13.86", "CNY"), Money.of("10.01", "CNY")]
    assert q.vat == Money.of("23.87", "CNY")
    assert any("040900" in en(w) for w in q.warnings)  # the honey VAT is inferred, and the quote says so


def test_cn_cbec_order_exactly_at_5000_is_allowed(tariff):
    # 2 × 2,480 + 40 = 5,000 CNY (not above the limit) → 5,000 × 6.3% = 315.00.
    q = quote("CN", "CNY", [line("081310", "2480", "CNY", qty=2)], shipping="40", origin="UZ")
    assert q.vat == Money.of("315.00", "CNY")


def test_cn_cbec_order_over_5000_is_refused(tariff):
    with pytest.raises(DomainError) as exc:
        quote("CN", "CNY", [line("081310", "2490", "CNY", qty=2)], shipping="40", origin="UZ")
    assert exc.value.code == "limit_exceeded" and exc.value.status == 422 and "lines" in exc.value.fields


def test_cn_cbec_single_indivisible_item_over_5000_pays_full_duty_and_vat(tariff):
    # One item of 5,100 CNY: duty MFN 25% = 1,275.00; VAT 9% × (5,100 + 1,275) = 573.75.
    q = quote("CN", "CNY", [line("081310", "5100", "CNY")], origin="UZ")
    assert q.duty == Money.of("1275.00", "CNY")
    assert q.vat == Money.of("573.75", "CNY")
    assert q.taxes_total == Money.of("1848.75", "CNY")


def test_cn_1210_when_sold_from_the_lanzhou_bonded_warehouse(tariff):
    q = quote("CN", "CNY", [line("081310", "150", "CNY")], origin="UZ", source_warehouse="LHW")
    assert q.regime == "cn_cbec_1210"


def test_cn_yearly_limit_counts_earlier_orders_and_refuses_past_it(tariff, make_user):
    buyer = make_user("buyer_cn", "buyer")
    first = quote("CN", "CNY", [line("081310", "1000", "CNY", qty=5)], origin="UZ", buyer_id=buyer.pk)  # 5,000
    for n in range(5):  # five orders of 5,000 = 25,000 of 26,000
        services.allowance_record(buyer_id=buyer.pk, reference=f"order:{n}", quote=first, actor=buyer)
    ok = quote("CN", "CNY", [line("081310", "1000", "CNY")], origin="UZ", buyer_id=buyer.pk)
    assert ok.allowance["used"] == {"amount": "25000.00", "currency": "CNY"}
    assert ok.allowance["remaining"] == {"amount": "0.00", "currency": "CNY"}
    with pytest.raises(DomainError) as exc:
        quote("CN", "CNY", [line("081310", "1100", "CNY")], origin="UZ", buyer_id=buyer.pk)
    assert exc.value.code == "limit_exceeded" and "buyer" in exc.value.fields
    services.allowance_release(reference="order:0", actor=buyer)  # a cancelled order gives it back
    assert quote("CN", "CNY", [line("081310", "1100", "CNY")], origin="UZ", buyer_id=buyer.pk).allowance["used"]["amount"] == "20000.00"


def test_allowance_record_is_idempotent_per_reference(tariff, make_user):
    buyer = make_user("buyer_cn", "buyer")
    q = quote("CN", "CNY", [line("081310", "1000", "CNY")], origin="UZ", buyer_id=buyer.pk)
    a = services.allowance_record(buyer_id=buyer.pk, reference="order:1", quote=q, actor=buyer)
    b = services.allowance_record(buyer_id=buyer.pk, reference="order:1", quote=q.to_api(), actor=buyer)
    assert a.pk == b.pk
    assert services.allowance_release(reference="order:1", actor=buyer) == 1
    assert services.allowance_release(reference="order:1", actor=buyer) == 0


# --- Uzbekistan: courier 200 USD per person per month from 2025-05-01; post 100 USD per item --------------


def test_uz_courier_below_the_monthly_allowance_pays_nothing(tariff):
    # 200 USD × 12,927.1619062 = 2,585,432.38 UZS > 2,000,000.
    q = quote("UZ", "UZS", [line("851713", "2000000", "UZS")])
    assert q.regime == "uz_personal_parcel" and q.duty == Money.of("0", "UZS")


def test_uz_courier_above_pays_30_percent_of_the_excess_and_flags_the_rate(tariff):
    # 3,000,000 − 2,585,432.38 = 414,567.62; 30% = 124,370.286 → 124,370.29.
    q = quote("UZ", "UZS", [line("851713", "3000000", "UZS")])
    assert q.duty == Money.of("124370.29", "UZS")
    assert any("unverified" in en(w) for w in q.warnings)


def test_uz_courier_heavy_parcel_pays_the_3_usd_per_kg_minimum(tariff):
    """2,700,000 UZS, 20 kg, courier, quoted 2026-03-01; USD→UZS 12,927.1619062.

    Allowance: 200 × 12,927.1619062 = 2,585,432.38124 → 2,585,432.38 UZS.
    Excess: 2,700,000 − 2,585,432.38 = 114,567.62 UZS; 30% = 34,370.286 → 34,370.29 UZS.
    Minimum: 3 USD × 20 kg (the parcel's gross weight) = 60 USD × 12,927.1619062 = 775,629.714372
    → 775,629.71 UZS. The minimum is larger: payment 775,629.71 UZS.
    """
    q = quote("UZ", "UZS", [line("081310", "2700000", "UZS", kg="20.000")])
    assert rate(q, "USD", "UZS") == Decimal("12927.1619062")
    [payment] = kinds(q, "parcel_payment")
    assert payment.amount == Money.of("775629.71", "UZS") and payment.rate is None
    assert "minimum" in en(payment.rule) and "20 kg" in en(payment.rule) and "soʻm\xa034,370.29" in en(payment.rule)
    assert q.duty == Money.of("775629.71", "UZS") and q.vat == Money.of("0", "UZS")
    assert any("3 USD per kg" in en(w) and "unverified" in en(w) for w in q.warnings)


def test_uz_courier_30_percent_wins_over_the_minimum(tariff):
    """5,000,000 UZS, 2 kg, courier, quoted 2026-03-01.

    Excess: 5,000,000 − 2,585,432.38 = 2,414,567.62 UZS; 30% = 724,370.286 → 724,370.29 UZS.
    Minimum: 3 USD × 2 kg = 6 USD × 12,927.1619062 = 77,562.9714372 → 77,562.97 UZS (lower).
    Payment 724,370.29 UZS.
    """
    q = quote("UZ", "UZS", [line("851713", "5000000", "UZS", kg="2.000")])
    [payment] = kinds(q, "parcel_payment")
    assert (payment.base, payment.rate, payment.amount) == (Money.of("2414567.62", "UZS"), Decimal("30"), Money.of("724370.29", "UZS"))
    assert "soʻm\xa077,562.97" in en(payment.rule) and "is lower" in en(payment.rule)


def test_uz_courier_minimum_only_applies_to_an_excess(tariff):
    # 2,000,000 UZS ≤ 2,585,432.38 UZS left of the allowance: nothing due, however heavy (25 kg).
    q = quote("UZ", "UZS", [line("081310", "2000000", "UZS", kg="25.000")])
    assert q.duty == Money.of("0", "UZS") and not kinds(q, "parcel_payment")


def test_uz_monthly_allowance_counts_the_buyers_earlier_parcels(tariff, make_user):
    buyer = make_user("buyer_uz", "buyer")
    first = quote("UZ", "UZS", [line("851713", "2000000", "UZS")], buyer_id=buyer.pk)
    # 2,000,000 × 0.0000773565 = 154.713 → 154.71 USD used.
    assert first.allowance["this_order"] == {"amount": "154.71", "currency": "USD"}
    services.allowance_record(buyer_id=buyer.pk, reference="order:1", quote=first, actor=buyer)
    # 45.29 USD left × 12,927.1619062 = 585,471.16 UZS; 1,000,000 − 585,471.16 = 414,528.84 × 30% = 124,358.652.
    second = quote("UZ", "UZS", [line("851713", "1000000", "UZS")], buyer_id=buyer.pk)
    assert second.duty == Money.of("124358.65", "UZS")
    # A new calendar month starts from a full allowance.
    april = quote("UZ", "UZS", [line("851713", "1000000", "UZS")], buyer_id=buyer.pk, date="2026-04-01")
    assert april.duty == Money.of("0", "UZS")


def test_uz_before_may_2025_the_quarterly_1000_usd_allowance_applies(tariff):
    q = quote("UZ", "UZS", [line("851713", "3000000", "UZS")], date="2025-03-01")
    assert q.duty == Money.of("0", "UZS")  # 3,000,000 < 1,000 USD = 12,927,161.91 UZS


def test_uz_postal_item_free_up_to_100_usd(tariff):
    # 100 USD = 1,292,716.19 UZS; 2,000,000 − 1,292,716.19 = 707,283.81 × 30% = 212,185.143 → 212,185.14.
    q = quote("UZ", "UZS", [line("851713", "2000000", "UZS")], channel="post")
    assert q.duty == Money.of("212185.14", "UZS")


# --- Tajikistan and Turkmenistan (unverified limits, flagged) ----------------------------------------


@pytest.mark.parametrize(("date", "vat"), [("2026-03-01", "148.31"), ("2027-03-01", "137.72")])
def test_tj_excess_pays_vat_of_its_date(tariff, date, vat):
    # 100 USD = 940.63 TJS; 2,000 − 940.63 = 1,059.37; VAT 14% = 148.3118 (2026), 13% = 137.7181 (2027).
    q = quote("TJ", "TJS", [line("851713", "2000", "TJS")], date=date)
    assert q.vat == Money.of(vat, "TJS")
    assert any("unverified" in en(w) for w in q.warnings)


def test_tm_excess_pays_general_duty_vat_and_the_clearance_fee(tariff):
    # 500 USD = 1,750.00 TMT; excess 350.00; duty 2% = 7.00; VAT 15% × 357.00 = 53.55;
    # fee 9.69 USD × 3.5000035 = 33.915 → 33.92 TMT.
    q = quote("TM", "TMT", [line("851713", "2100", "TMT")])
    assert (q.duty, q.vat, q.fees) == (Money.of("7.00", "TMT"), Money.of("53.55", "TMT"), Money.of("33.92", "TMT"))
    assert q.taxes_total == Money.of("94.47", "TMT")


def test_tm_below_500_usd_pays_nothing(tariff):
    assert quote("TM", "TMT", [line("851713", "1750", "TMT")]).taxes_total == Money.of("0", "TMT")


# --- the buyer's currency ---------------------------------------------------------------------------------


def test_totals_in_the_buyers_currency_are_sums_of_converted_lines(tariff):
    # Taxes computed in KZT, shown in USD at KZT→USD: 27,292.57 KZT × 0.001979 = 54.012 → 54.01 USD.
    q = quote("KZ", "USD", [line("851713", "150000", "KZT", qty=2)])
    assert q.duty == Money.of("54.01", "USD")
    assert q.taxes_total == q.duty + q.vat + q.excise + q.fees
    assert q.landed_cost == q.goods + q.shipping + q.insurance + q.taxes_total
    assert q.landed_cost_storefront == Money.of("327292.57", "KZT")
    assert {(r["from"], r["to"]) for r in q.to_api()["fx"]} >= {("EUR", "KZT"), ("KZT", "USD")}
