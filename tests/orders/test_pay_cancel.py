"""Paying into escrow, cancelling with an exact refund, who may see and do what."""

import pytest

from core.money import Money
from customs.models import AllowanceUse
from orders.models import Order
from payments.models import EscrowHold
from warehouses.models import Fulfilment

from .conftest import available, fund, order_body, wallet

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


@pytest.fixture
def placed(api_as, buyer_cn, honey):
    response = api_as(buyer_cn).post(URL, order_body("kz", [(honey, 2)]), format="json")
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def test_pay_holds_the_total_in_escrow_and_declares_the_bonded_parcel_before_any_picking(api_as, buyer_cn, placed):
    start = wallet(buyer_cn, "CNY").available

    response = api_as(buyer_cn).post(f"{URL}{placed.pk}/pay/", format="json", HTTP_IDEMPOTENCY_KEY="pay-1")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "paid" and body["expires_at"] is None
    assert [e["status"] for e in body["events"]] == ["placed", "paid"]
    assert body["events"][1]["actor"] == "buyer_cn"
    assert wallet(buyer_cn, "CNY").available == start - placed.total
    assert EscrowHold.objects.get(reference=placed.reference).amount_minor == placed.total_minor
    assert AllowanceUse.objects.filter(reference=placed.reference, released_at__isnull=True).count() == 1
    # Sold from the Lanzhou bond: customs first (the declaration task is queued), the warehouse after release.
    assert body["road"] == "bond"
    assert not Fulfilment.objects.filter(reference=placed.reference).exists()

    replay = api_as(buyer_cn).post(f"{URL}{placed.pk}/pay/", format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert replay.status_code == 200 and replay.json() == body and replay["Idempotent-Replay"] == "true"
    second = api_as(buyer_cn).post(f"{URL}{placed.pk}/pay/", format="json")
    assert second.status_code == 409 and second.json()["error"]["code"] == "illegal_transition"
    assert wallet(buyer_cn, "CNY").available == start - placed.total  # charged once


def test_pay_without_enough_money_leaves_the_order_placed(api_as, make_user, honey, reference):
    poor = make_user("buyer_poor", "buyer")
    fund(poor, "10.00", "CNY")
    order_id = api_as(poor).post(URL, order_body("kz", [(honey, 2)]), format="json").json()["id"]

    response = api_as(poor).post(f"{URL}{order_id}/pay/", format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert Order.objects.get(pk=order_id).status == "placed"
    assert wallet(poor, "CNY").available == Money.of("10.00", "CNY")
    assert not EscrowHold.objects.exists() and not AllowanceUse.objects.exists()
    assert not Fulfilment.objects.exists()
    assert available(honey, "LHW") == 18  # still reserved for the order, which may be paid after a top-up


def test_pay_with_no_wallet_in_the_currency_is_insufficient_funds(api_as, make_user, honey, reference):
    nobody = make_user("buyer_new", "buyer")
    order_id = api_as(nobody).post(URL, order_body("kz", [(honey, 1)]), format="json").json()["id"]
    response = api_as(nobody).post(f"{URL}{order_id}/pay/", format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "insufficient_funds"


def test_cancel_after_pay_refunds_exactly_and_returns_the_units(api_as, buyer_cn, placed, honey):
    start = wallet(buyer_cn, "CNY")
    client = api_as(buyer_cn)
    assert client.post(f"{URL}{placed.pk}/pay/", format="json").status_code == 200

    response = client.post(f"{URL}{placed.pk}/cancel/", {"reason": "Ordered the wrong size"}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["events"][-1]["note"] == "Ordered the wrong size"
    assert wallet(buyer_cn, "CNY") == start
    assert available(honey, "LHW") == 20
    assert AllowanceUse.objects.get(reference=placed.reference).released_at is not None
    assert not Fulfilment.objects.filter(reference=placed.reference).exists()
    again = client.post(f"{URL}{placed.pk}/cancel/", format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "illegal_transition"
    assert wallet(buyer_cn, "CNY") == start


def test_cancel_before_pay_returns_the_units(api_as, buyer_cn, placed, honey):
    response = api_as(buyer_cn).post(f"{URL}{placed.pk}/cancel/", format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert available(honey, "LHW") == 20
    paid = api_as(buyer_cn).post(f"{URL}{placed.pk}/pay/", format="json")
    assert paid.status_code == 409 and paid.json()["error"]["code"] == "illegal_transition"


def test_pay_after_the_window_closed_is_refused(api_as, buyer_cn, placed):
    from django.utils import timezone

    Order.objects.filter(pk=placed.pk).update(expires_at=timezone.now())
    response = api_as(buyer_cn).post(f"{URL}{placed.pk}/pay/", format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "illegal_transition"
    assert not EscrowHold.objects.exists()


# --- access ----------------------------------------------------------------------------------


def test_another_buyer_cannot_see_pay_or_cancel(api_as, other_buyer, placed):
    client = api_as(other_buyer)
    assert client.get(f"{URL}{placed.pk}/").status_code == 404
    assert client.post(f"{URL}{placed.pk}/pay/", format="json").status_code == 404
    assert client.post(f"{URL}{placed.pk}/cancel/", format="json").status_code == 404
    assert client.get(URL).json()["results"] == []
    assert Order.objects.get(pk=placed.pk).status == "placed"


def test_the_seller_reads_its_orders_but_cannot_act_for_the_buyer(api_as, kz_seller, cn_seller, placed):
    seller = api_as(kz_seller)
    assert [o["id"] for o in seller.get(URL).json()["results"]] == [placed.pk]
    assert seller.get(f"{URL}{placed.pk}/").json()["events"][0]["status"] == "placed"
    assert seller.post(f"{URL}{placed.pk}/cancel/", format="json").status_code == 403
    assert seller.post(f"{URL}{placed.pk}/pay/", format="json").status_code == 403
    assert api_as(cn_seller).get(f"{URL}{placed.pk}/").status_code == 404


def test_staff_sees_every_order_and_may_cancel(api_as, staff, placed, honey):
    client = api_as(staff)
    assert [o["id"] for o in client.get(URL).json()["results"]] == [placed.pk]
    response = client.post(f"{URL}{placed.pk}/cancel/", format="json")
    assert response.status_code == 200 and response.json()["events"][-1]["actor"] == "staff_a"


def test_the_list_is_the_buyers_own_newest_first_with_a_cursor(api_as, buyer_cn, honey):
    client = api_as(buyer_cn)
    ids = [client.post(URL, order_body("kz", [(honey, 1)]), format="json").json()["id"] for _ in range(3)]
    page = client.get(URL, {"page_size": 2}).json()
    assert [o["id"] for o in page["results"]] == ids[::-1][:2]
    rest = client.get(page["next"]).json()
    assert [o["id"] for o in rest["results"]] == ids[:1]
    assert client.get(URL, {"status": "paid"}).json()["results"] == []


def test_anonymous_is_refused(placed):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    assert anonymous.get(URL).status_code == 401
    assert anonymous.post(f"{URL}{placed.pk}/cancel/", format="json").status_code == 401
