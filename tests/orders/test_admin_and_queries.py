"""Staff corrections from the admin, the declared machine, and constant query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from orders import selectors
from orders import services as orders
from orders.models import Order

from .conftest import available, order_body, wallet

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


def place(buyer, product, quantity=1):
    return orders.order_place(buyer=buyer, storefront="kz", lines=[{"product": product.pk, "quantity": quantity}],
                              ship_to=order_body("kz", [])["ship_to"])


def test_admin_cancel_action_refunds_and_records_the_staff_member(client, make_user, buyer_cn, honey):
    admin = make_user("admin", "staff", is_superuser=True)
    start = wallet(buyer_cn, "CNY")
    order = place(buyer_cn, honey, 2)
    orders.order_pay(order=order, actor=buyer_cn)
    client.force_login(admin)

    response = client.post("/admin/orders/order/", {"action": "order_to_cancelled", "_selected_action": [order.pk]})

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "cancelled" and wallet(buyer_cn, "CNY") == start
    assert selectors.order_events(order)[-1]["actor"] == "admin"
    assert available(honey, "LHW") == 20
    page = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200 and b"Mountain honey" in page.content


def test_illegal_moves_are_refused_by_the_declaration(buyer_cn, honey):
    order = place(buyer_cn, honey)
    with pytest.raises(DomainError) as exc:
        orders.order_advance(order=order, to="in_transit", actor=SYSTEM_ACTOR)
    assert exc.value.code == "illegal_transition" and exc.value.status == 409
    with pytest.raises(DomainError) as exc:
        orders.order_deliver(order=order, actor=SYSTEM_ACTOR)
    assert exc.value.code == "illegal_transition"
    with pytest.raises(DomainError) as exc:  # the system never pays for a buyer
        orders.order_pay(order=order, actor=SYSTEM_ACTOR)
    assert exc.value.code == "transition_not_permitted"
    assert Order.objects.get(pk=order.pk).status == "placed"


def test_customs_rejection_then_return_refunds_the_buyer(buyer_cn, honey):
    start = wallet(buyer_cn, "CNY")
    order = place(buyer_cn, honey)
    orders.order_pay(order=order, actor=buyer_cn)
    assert orders.order_declare(order_id=order.pk)  # sold from bond: declared at the warehouse
    assert Order.objects.get(pk=order.pk).status == "at_customs"
    orders.order_advance(order=order, to="customs_rejected", actor=SYSTEM_ACTOR)
    orders.order_return(order=order, actor=SYSTEM_ACTOR, reason="declaration refused")
    order.refresh_from_db()
    assert order.status == "returned" and wallet(buyer_cn, "CNY") == start
    assert available(honey, "LHW") == 20


def test_the_order_list_costs_the_same_queries_for_1_or_5_orders(api_as, buyer_cn, honey, apricots):
    client = api_as(buyer_cn)
    place(buyer_cn, honey)
    client.get(URL)  # the first request caches the user's roles and companies on the user object
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(URL).json()["results"]) == 1
    for _ in range(4):
        place(buyer_cn, apricots)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(URL).json()["results"]) == 5
    assert len(five.captured_queries) == len(one.captured_queries)
