"""Provider webhooks: only a fresh, correctly signed, first-seen event books a top-up."""

import json
import time

import pytest

from core.money import Money
from payments.gateways.providers import SimulatorProvider
from payments.interface import Owner
from payments.models import ProviderEvent, Transaction

from .helpers import wallet_minor

pytestmark = pytest.mark.django_db

URL = "/api/v1/payments/webhooks/simulator/"


@pytest.fixture
def simulator(settings):
    return SimulatorProvider(settings.PAYMENT_WEBHOOK_SECRETS["simulator"])


def post(api, headers, body, url=URL):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return api.post(url, data=body, content_type="application/json", **extra)


def test_a_signed_top_up_credits_the_wallet(api, alice, currencies, simulator):
    headers, body = simulator.top_up_event(owner=Owner.user(alice), amount=Money.of("75.50", "UZS"), event_id="evt_1")
    resp = post(api, headers, body)
    assert resp.status_code == 200, resp.content
    assert wallet_minor(Owner.user(alice), "UZS") == 7550
    assert ProviderEvent.objects.get(event_id="evt_1").txn_id == resp.json()["transaction"]


def test_a_replayed_event_is_refused_and_books_nothing(api, alice, currencies, simulator):
    headers, body = simulator.top_up_event(owner=Owner.user(alice), amount=Money.of("10.00", "CNY"), event_id="evt_2")
    assert post(api, headers, body).status_code == 200
    replay = post(api, headers, body)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "webhook_replayed"
    assert wallet_minor(Owner.user(alice), "CNY") == 1000


def test_an_unsigned_webhook_is_refused(api, alice, currencies, simulator):
    _, body = simulator.top_up_event(owner=Owner.user(alice), amount=Money.of("10.00", "CNY"))
    resp = post(api, {}, body)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "webhook_signature_invalid"
    assert not Transaction.objects.exists() and not ProviderEvent.objects.exists()


def test_a_wrong_signature_or_tampered_body_is_refused(api, alice, currencies, simulator):
    headers, body = simulator.top_up_event(owner=Owner.user(alice), amount=Money.of("10.00", "CNY"))
    tampered = body.replace(b"10.00", b"99999.00")
    assert post(api, headers, tampered).json()["error"]["code"] == "webhook_signature_invalid"
    forged = SimulatorProvider("not-the-secret").sign(body)
    resp = post(api, forged, body)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "webhook_signature_invalid"
    assert wallet_minor(Owner.user(alice), "CNY") == 0


def test_a_stale_webhook_is_refused(api, alice, currencies, simulator):
    headers, body = simulator.top_up_event(owner=Owner.user(alice), amount=Money.of("10.00", "CNY"),
                                           timestamp=int(time.time()) - 301)
    resp = post(api, headers, body)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "webhook_stale"
    assert not ProviderEvent.objects.exists()


def test_an_unknown_provider_is_404(api, alice, currencies, simulator):
    headers, body = simulator.top_up_event(owner=Owner.user(alice), amount=Money.of("10.00", "CNY"))
    assert post(api, headers, body, url="/api/v1/payments/webhooks/nobody/").status_code == 404


def test_a_signed_event_with_a_bad_amount_books_nothing_and_can_be_corrected(api, alice, currencies, simulator):
    body = json.dumps({"id": "evt_9", "type": "top_up.succeeded",
                       "data": {"owner": f"user:{alice.pk}", "amount": {"amount": "-5.00", "currency": "CNY"}}}).encode()
    resp = post(api, simulator.sign(body), body)
    assert resp.status_code == 400 and "amount" in resp.json()["error"]["fields"]
    assert not ProviderEvent.objects.exists()  # rolled back: the provider may resend a fixed event
