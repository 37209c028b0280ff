"""The wallet API as a client sees it."""

import pytest

from core.access import SYSTEM_ACTOR
from core.money import Money
from payments import services
from payments.interface import Owner
from payments.models import Payout, Transaction

from .helpers import assert_ledger_consistent, wallet_minor

pytestmark = pytest.mark.django_db


def money(amount, currency):
    return {"amount": amount, "currency": currency}


def test_wallets_list_balances_held_and_available(api_as, alice, fund):
    fund(Owner.user(alice), "500.00", "CNY")
    services.escrow_hold(payer=Owner.user(alice), amount=Money.of("120.00", "CNY"), reference="order:1",
                         actor=alice)
    body = api_as(alice).get("/api/v1/wallets/").json()
    assert body == [{"currency": "CNY", "balance": money("500.00", "CNY"), "held": money("120.00", "CNY"),
                     "available": money("380.00", "CNY"), "pending_payouts": money("0.00", "CNY")}]


def test_another_users_money_is_invisible(api_as, alice, bob, fund):
    fund(Owner.user(alice), "500.00", "CNY")
    assert api_as(bob).get("/api/v1/wallets/").json() == []
    assert api_as(bob).get("/api/v1/wallets/CNY/statement/").json()["results"] == []


def test_statement_is_paginated_newest_first(api_as, alice, fund):
    for amount in ("1.00", "2.00", "3.00"):
        fund(Owner.user(alice), amount, "KZT")
    client = api_as(alice)
    first = client.get("/api/v1/wallets/KZT/statement/?page_size=2").json()
    assert [e["amount"] for e in first["results"]] == [money("3.00", "KZT"), money("2.00", "KZT")]
    assert first["results"][0]["balance_after"] == money("6.00", "KZT") and first["results"][0]["kind"] == "top_up"
    second = client.get(first["next"]).json()
    assert [e["amount"] for e in second["results"]] == [money("1.00", "KZT")]


def test_statement_of_an_unknown_currency_is_400(api_as, alice, currencies):
    resp = api_as(alice).get("/api/v1/wallets/XYZ/statement/")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "unknown_currency"
    assert "currency" in resp.json()["error"]["fields"]


def test_convert_quotes_then_converts_and_replays_with_the_same_key(api_as, alice, fund):
    fund(Owner.user(alice), "1000.00", "CNY")
    client = api_as(alice)
    quote = client.post("/api/v1/wallets/convert/", {"amount": money("100.00", "CNY"), "to_currency": "KZT",
                                                    "quote_only": True}).json()
    assert quote["transaction"] is None and quote["quote"]["spread"] == "0.005"
    assert Transaction.objects.filter(kind="conversion").count() == 0
    resp = client.post("/api/v1/wallets/convert/", {"amount": money("100.00", "CNY"), "to_currency": "KZT"},
                       HTTP_IDEMPOTENCY_KEY="conv-1")
    assert resp.status_code == 201, resp.content
    assert resp.json()["quote"]["receive"] == quote["quote"]["receive"]
    again = client.post("/api/v1/wallets/convert/", {"amount": money("100.00", "CNY"), "to_currency": "KZT"},
                        HTTP_IDEMPOTENCY_KEY="conv-1")
    assert again.json() == resp.json()
    assert Transaction.objects.filter(kind="conversion").count() == 1
    received = Money.from_api(resp.json()["quote"]["receive"])
    assert wallet_minor(Owner.user(alice), "CNY") == 90000 and wallet_minor(Owner.user(alice), "KZT") == received.minor
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"amount": money("1.00", "XYZ"), "to_currency": "KZT"}, 400, "validation_error", "amount"),
        ({"amount": money("1.00", "CNY"), "to_currency": "XYZ"}, 400, "unknown_currency", "to_currency"),
        ({"amount": money("1.00", "CNY"), "to_currency": "CNY"}, 400, "validation_error", "to_currency"),
        ({"amount": money("-1.00", "CNY"), "to_currency": "KZT"}, 400, "invalid_amount", "amount"),
        ({"amount": money("0.00", "CNY"), "to_currency": "KZT"}, 400, "invalid_amount", "amount"),
        ({"amount": money("999999999999999.00", "CNY"), "to_currency": "KZT"}, 400, "validation_error", "amount"),
        ({"amount": money("5000000000000.00", "CNY"), "to_currency": "KZT"}, 400, "invalid_amount", "amount"),
        ({"amount": money("1.001", "CNY"), "to_currency": "KZT"}, 400, "validation_error", "amount"),
        ({"amount": money("1000.00", "CNY"), "to_currency": "KZT"}, 409, "insufficient_funds", "amount"),
    ],
)
def test_convert_refuses_bad_requests_with_the_field(api_as, alice, fund, payload, status, code, field):
    fund(Owner.user(alice), "10.00", "CNY")
    resp = api_as(alice).post("/api/v1/wallets/convert/", payload)
    assert resp.status_code == status, resp.content
    assert resp.json()["error"]["code"] == code and field in resp.json()["error"]["fields"]
    assert wallet_minor(Owner.user(alice), "CNY") == 1000


def test_fx_rates_are_public_with_source_and_date(api, currencies):
    rates = {r["to"]: r for r in api.get("/api/v1/fx-rates/").json()}
    assert rates["KZT"]["rate"] == "505.305710965" or rates["KZT"]["rate"].startswith("505.")
    assert rates["KZT"]["as_of"] == "2025-03-17" and "National Bank of Kazakhstan" in rates["KZT"]["source"]
    kzt = {r["to"]: r for r in api.get("/api/v1/fx-rates/?base=CNY").json()}
    assert kzt["KZT"]["from"] == "CNY" and kzt["KZT"]["rate"].startswith("71.")


def test_seller_requests_a_payout_of_its_company_balance(api_as, seller_company, fund):
    user, company = seller_company
    fund(Owner.company(company.pk), "300.00", "KZT")
    resp = api_as(user).post("/api/v1/payouts/", {"amount": money("120.00", "KZT")})
    assert resp.status_code == 201, resp.content
    assert resp.json()["amount"] == money("120.00", "KZT")
    assert wallet_minor(Owner.company(company.pk), "KZT") == 18000
    listed = api_as(user).get("/api/v1/payouts/").json()["results"]
    assert [p["id"] for p in listed] == [resp.json()["id"]]


def test_payout_beyond_the_available_balance_is_409(api_as, seller_company, fund):
    user, company = seller_company
    fund(Owner.company(company.pk), "10.00", "KZT")
    resp = api_as(user).post("/api/v1/payouts/", {"amount": money("10.01", "KZT")})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "insufficient_funds"
    assert not Payout.objects.exists()


def test_a_buyer_may_not_request_payouts(api_as, alice, fund):
    fund(Owner.user(alice), "10.00", "KZT")
    resp = api_as(alice).post("/api/v1/payouts/", {"amount": money("1.00", "KZT")})
    assert resp.status_code == 403
    assert wallet_minor(Owner.user(alice), "KZT") == 1000


def test_a_company_the_user_is_not_in_is_404(api_as, alice, seller_company):
    _, company = seller_company
    assert api_as(alice).get(f"/api/v1/wallets/?company={company.pk}").status_code == 404


def test_system_actor_top_up_then_api_shows_it(api_as, alice, currencies):
    services.wallet_top_up(owner=Owner.user(alice), amount=Money.of("5.00", "USD"), provider="simulator",
                           provider_event_id="e1", actor=SYSTEM_ACTOR)
    assert api_as(alice).get("/api/v1/wallets/").json()[0]["available"] == money("5.00", "USD")


def test_a_refusal_comes_back_in_russian_when_the_client_asks_for_it(api_as, alice, fund):
    """LocaleMiddleware reads Accept-Language; the code stays the same, the message and the field
    messages are in the reader's language."""
    fund(Owner.user(alice), "10.00", "CNY")
    client = api_as(alice)
    resp = client.post("/api/v1/wallets/convert/", {"amount": money("1000.00", "CNY"), "to_currency": "KZT"},
                       HTTP_ACCEPT_LANGUAGE="ru")
    assert resp.status_code == 409
    assert resp.json()["error"] == {"code": "insufficient_funds", "message": "Недостаточно средств в кошельке CNY.",
                                    "fields": {"amount": ["Недостаточно средств в кошельке CNY."]}}
    english = client.post("/api/v1/wallets/convert/", {"amount": money("1000.00", "CNY"), "to_currency": "KZT"})
    assert english.json()["error"]["message"] == "Not enough money in the CNY wallet."
    assert wallet_minor(Owner.user(alice), "CNY") == 1000


def test_a_replayed_webhook_is_refused_in_russian(api, alice, currencies, settings):
    from payments.gateways.providers import SimulatorProvider

    simulator = SimulatorProvider(settings.PAYMENT_WEBHOOK_SECRETS["simulator"])
    headers, body = simulator.top_up_event(owner=Owner.user(alice), amount=Money.of("10.00", "CNY"), event_id="evt_ru")
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    url = "/api/v1/payments/webhooks/simulator/"
    assert api.post(url, data=body, content_type="application/json", **extra).status_code == 200
    resp = api.post(url, data=body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="ru", **extra)
    assert resp.status_code == 409
    assert resp.json()["error"] == {"code": "webhook_replayed", "message": "Событие evt_ru уже получено.",
                                    "fields": {"id": ["Уже получено."]}}


@pytest.mark.parametrize(("language", "message"), [
    ("ru", "Такой выплаты нет."), ("kk", "Мұндай төлем жоқ."), ("uz", "Bunday toʻlov yoʻq."),
    ("zh-hans", "没有该提现记录。"), ("en", "No such payout."),
])
def test_an_unknown_payout_is_404_in_each_language(api_as, seller_company, language, message):
    user, _company = seller_company
    resp = api_as(user).get("/api/v1/payouts/987654/", HTTP_ACCEPT_LANGUAGE=language)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found" and resp.json()["error"]["message"] == message
