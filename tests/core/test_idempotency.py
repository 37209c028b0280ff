"""Idempotency-Key: replay returns the first response, a different body is 422, a concurrent duplicate 409."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import IdempotencyKey
from core.tasks import purge_idempotency_keys
from tests.testapp.models import Shipment


@pytest.mark.django_db
def test_replay_returns_the_first_response_and_does_nothing_more(api_as, buyer):
    client = api_as(buyer)
    first = client.post("/api/v1/test/shipments/", {"note": "one"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/test/shipments/", {"note": "one"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replay"] == "true"
    assert Shipment.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.urls("tests.core.idempotency_urls")
def test_a_replay_is_the_first_response_byte_for_byte(api_as, buyer):
    # jsonb would hand these back as {"id", "zeta", "alpha", ...}: sorted by length, then bytes.
    payload = {
        "zeta": 1, "alpha": {"omega": [3, 1, 2], "beta": {"z": None, "a": "Алматы", "m": "乌鲁木齐"}},
        "id": "x", "middle": [{"b": 2, "a": 1}], "price": "12.50",
    }
    client = api_as(buyer)
    first = client.post("/echo/", payload, format="json", HTTP_IDEMPOTENCY_KEY="bytes")
    replay = client.post("/echo/", payload, format="json", HTTP_IDEMPOTENCY_KEY="bytes")
    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert replay["Content-Type"] == first["Content-Type"] == "application/json"
    assert replay["Location"] == first["Location"]
    assert replay["Idempotent-Replay"] == "true" and not first.has_header("Idempotent-Replay")
    assert list(replay.json()["echo"]) == ["zeta", "alpha", "id", "middle", "price"]
    assert list(replay.json()["echo"]["alpha"]["beta"]) == ["z", "a", "m"]
    assert Shipment.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_422(api_as, buyer):
    client = api_as(buyer)
    client.post("/api/v1/test/shipments/", {"note": "one"}, HTTP_IDEMPOTENCY_KEY="k-1")
    resp = client.post("/api/v1/test/shipments/", {"note": "two"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "idempotency_key_reused"
    assert Shipment.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_to_the_user(api, buyer, other_buyer):
    api.force_authenticate(buyer)
    api.post("/api/v1/test/shipments/", {"note": "one"}, HTTP_IDEMPOTENCY_KEY="shared")
    api.force_authenticate(other_buyer)
    resp = api.post("/api/v1/test/shipments/", {"note": "one"}, HTTP_IDEMPOTENCY_KEY="shared")
    assert resp.status_code == 201
    assert Shipment.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_request_releases_the_key(api_as, buyer):
    client = api_as(buyer)
    shipment = Shipment.objects.create(owner=buyer)
    bad = client.post(f"/api/v1/test/shipments/{shipment.pk}/transition/", {"to": "done"}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 409
    assert not IdempotencyKey.objects.filter(key="k-2").exists()
    good = client.post(f"/api/v1/test/shipments/{shipment.pk}/transition/", {"to": "cancelled"}, HTTP_IDEMPOTENCY_KEY="k-3")
    assert good.status_code == 200


@pytest.mark.django_db
def test_an_overlong_key_is_a_400_naming_the_header(api_as, buyer):
    resp = api_as(buyer).post("/api/v1/test/shipments/", {"note": "x"}, HTTP_IDEMPOTENCY_KEY="k" * 300)
    assert resp.status_code == 400
    assert "Idempotency-Key" in resp.json()["error"]["fields"]
    assert Shipment.objects.count() == 0


@pytest.mark.django_db
def test_expired_keys_are_purged_and_can_be_reused(api_as, buyer):
    client = api_as(buyer)
    client.post("/api/v1/test/shipments/", {"note": "one"}, HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert purge_idempotency_keys() == 1
    client.post("/api/v1/test/shipments/", {"note": "one"}, HTTP_IDEMPOTENCY_KEY="old")
    assert Shipment.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_while_the_first_is_running_is_409_in_flight(make_user):
    user = make_user("slowpoke", "buyer")
    results = {}
    started = threading.Event()

    def call(name):
        client = APIClient()
        client.force_authenticate(user)
        if name == "second":
            started.wait(5)
            # the first request holds the key while it sleeps inside the handler
            _wait_for_claim()
        results[name] = client.post("/api/v1/test/shipments/", {"note": "slow"}, HTTP_IDEMPOTENCY_KEY="race")
        connection.close()

    def _wait_for_claim():
        from tests.conftest import wait_for

        wait_for(lambda: IdempotencyKey.objects.filter(key="race").exists(), timeout=5, interval=0.01)

    first = threading.Thread(target=call, args=("first",))
    second = threading.Thread(target=call, args=("second",))
    first.start()
    started.set()
    second.start()
    first.join()
    second.join()
    assert results["first"].status_code == 201
    assert results["second"].status_code == 409
    assert results["second"].json()["error"]["code"] == "idempotency_key_in_flight"
    assert Shipment.objects.count() == 1
    # once the first is done, a replay gets its response
    client = APIClient()
    client.force_authenticate(user)
    replay = client.post("/api/v1/test/shipments/", {"note": "slow"}, HTTP_IDEMPOTENCY_KEY="race")
    assert replay.status_code == 201 and replay.content == results["first"].content


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_requests_book_once(make_user):
    user = make_user("twins", "buyer")
    barrier = threading.Barrier(8)
    codes = []

    def call():
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        codes.append(client.post("/api/v1/test/shipments/", {"note": "x"}, HTTP_IDEMPOTENCY_KEY="same").status_code)
        connection.close()

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Shipment.objects.count() == 1
    assert codes.count(201) >= 1 and set(codes) <= {201, 409}
