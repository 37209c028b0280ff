"""The wallet pages as a signed-in buyer or seller uses them."""

import pytest

from core.money import Money
from payments import services
from payments.interface import Owner
from payments.models import Payout

from .helpers import wallet_minor

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_client(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_wallet_page_shows_balance_held_available_and_the_statement(browser_client, alice, fund):
    fund(Owner.user(alice), "500.00", "CNY")
    services.escrow_hold(payer=Owner.user(alice), amount=Money.of("120.00", "CNY"), reference="order:77", actor=alice)
    client = browser_client(alice)
    resp = client.get("/wallet/", follow=True)
    assert resp.redirect_chain[-1][0] == "/wallet/CNY/"
    html = resp.content.decode()
    assert "order:77" in html and 'data-testid="statement"' in html
    assert "380.00" in html and "120.00" in html and "500.00" in html
    assert 'data-testid="payout-form"' not in html  # buyers have no payouts


def test_wallet_page_is_translated(browser_client, alice, fund):
    fund(Owner.user(alice), "5.00", "CNY")
    client = browser_client(alice)
    client.cookies["karavan_language"] = "ru"
    assert "Доступно" in client.get("/wallet/CNY/").content.decode()
    client.cookies["karavan_language"] = "zh-hans"
    assert "可用" in client.get("/wallet/CNY/").content.decode()


def test_top_up_with_the_simulator_goes_through_the_signed_webhook(browser_client, alice, currencies):
    client = browser_client(alice)
    resp = client.post("/wallet/UZS/top-up/", {"amount": "250000.00", "idempotency_key": "a"}, follow=True)
    assert resp.status_code == 200
    assert wallet_minor(Owner.user(alice), "UZS") == 25000000
    from payments.models import ProviderEvent

    assert ProviderEvent.objects.filter(provider="simulator").count() == 1


def test_convert_form_books_once_even_if_submitted_twice(browser_client, alice, fund):
    fund(Owner.user(alice), "100.00", "CNY")
    client = browser_client(alice)
    form = {"amount": "10.00", "to_currency": "KZT", "idempotency_key": "form-1"}
    client.post("/wallet/CNY/convert/", form)
    client.post("/wallet/CNY/convert/", form)
    assert wallet_minor(Owner.user(alice), "CNY") == 9000 and wallet_minor(Owner.user(alice), "KZT") > 0


def test_convert_beyond_the_balance_shows_the_error_on_the_form(browser_client, alice, fund):
    fund(Owner.user(alice), "1.00", "CNY")
    resp = browser_client(alice).post("/wallet/CNY/convert/", {"amount": "10.00", "to_currency": "KZT"})
    assert resp.status_code == 400 and "Not enough money" in resp.content.decode()
    assert wallet_minor(Owner.user(alice), "CNY") == 100


def test_live_quote_partial(browser_client, alice, currencies):
    client = browser_client(alice)
    html = client.get("/wallet/CNY/quote/", {"amount": "100.00", "to_currency": "KZT"}, HTTP_HX_REQUEST="true").content.decode()
    quote = services.conversion_quote(amount=Money.of("100.00", "CNY"), to_currency="KZT")
    assert f'data-testid="quote-receive">{quote.receive.format("en")}<' in html
    bad = client.get("/wallet/CNY/quote/", {"amount": "0.001", "to_currency": "KZT"}).content.decode()
    assert 'data-testid="quote-error"' in bad


def test_seller_sees_and_requests_payouts_for_its_company(browser_client, seller_company, fund):
    user, company = seller_company
    fund(Owner.company(company.pk), "1000.00", "KZT")
    client = browser_client(user)
    page = client.get("/wallet/KZT/").content.decode()
    assert 'data-testid="payout-form"' in page and company.name in page
    client.post("/wallet/KZT/payout/", {"amount": "400.00"})
    assert Payout.objects.get().amount_minor == 40000
    assert wallet_minor(Owner.company(company.pk), "KZT") == 60000


def test_unknown_currency_page_is_404(browser_client, alice, currencies):
    assert browser_client(alice).get("/wallet/XYZ/").status_code == 404


def test_wallet_requires_login(client):
    assert client.get("/wallet/CNY/").status_code == 302
