"""The seller's order desk, returns to decide, the operator's returns to receive and the buyer's
"Return items" form (Django's test client, a fixed number of queries per page)."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, Return
from warehouses.models import Warehouse

from .conftest import fund
from .test_returns import delivered

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller_client(client, cn_seller):
    client.force_login(cn_seller)
    return client


def test_the_desk_lists_the_companys_orders_per_status_with_counts_and_csv(
        client, buyer_kz, cn_seller, make_user, released_phone):
    done = delivered(buyer_kz, released_phone, quantity=1)
    from orders import services as orders
    from tests.orders.conftest import order_body

    paid = orders.order_place(buyer=buyer_kz, storefront="cn-kz", lines=[{"product": released_phone.pk, "quantity": 2}],
                              ship_to=order_body("cn-kz", [])["ship_to"])
    orders.order_pay(order=paid, actor=buyer_kz)
    client.force_login(cn_seller)

    page = client.get("/seller/orders/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"#{done.pk}" in html and f"#{paid.pk}" in html
    assert 'data-testid="nav-desk"' in html and '<span class="badge warn">1</span>' in html  # one to fulfil
    open_only = client.get("/seller/orders/?status=open").content.decode()
    assert f"#{paid.pk}" in open_only and f"#{done.pk}</a>" not in open_only
    rows = list(csv.DictReader(io.StringIO(client.get("/seller/orders/?format=csv").content.decode("utf-8-sig"))))
    assert {(int(r["order"]), r["status"]) for r in rows} == {(done.pk, "delivered"), (paid.pk, "paid")}
    assert client.get(f"/seller/orders/{done.pk}/").status_code == 200

    # Another seller sees none of it.
    other = make_user("seller_other", "seller")
    client.force_login(other)
    assert f"#{done.pk}" not in client.get("/seller/orders/").content.decode()
    assert client.get(f"/seller/orders/{done.pk}/").status_code == 404


def test_the_desk_costs_the_same_queries_for_1_or_6_orders(client, buyer_kz, cn_seller, released_phone):
    from orders import services as orders
    from tests.orders.conftest import order_body

    def place():
        order = orders.order_place(buyer=buyer_kz, storefront="cn-kz", lines=[{"product": released_phone.pk, "quantity": 1}],
                                   ship_to=order_body("cn-kz", [])["ship_to"])
        orders.order_pay(order=order, actor=buyer_kz)

    fund(buyer_kz, "1000000.00", "KZT")
    place()
    client.force_login(cn_seller)
    client.get("/seller/orders/")
    with CaptureQueriesContext(connection) as one:
        client.get("/seller/orders/")
    for _ in range(5):
        place()
    with CaptureQueriesContext(connection) as six:
        assert client.get("/seller/orders/").content.decode().count('data-testid="desk-row"') == 6
    assert len(six.captured_queries) == len(one.captured_queries)


def test_buyer_asks_seller_approves_buyer_ships_operator_receives_through_the_pages(
        client, buyer_kz, cn_seller, make_user, released_phone):
    order = delivered(buyer_kz, released_phone, quantity=2)
    line = order.lines.get()
    client.force_login(buyer_kz)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="return-form"' in page

    response = client.post(f"/orders/{order.pk}/return/", {f"qty-{line.pk}": "1", "reason": "defective", "comment": "cracked"})
    assert response.status_code == 302
    ret = Return.objects.get()
    assert ret.status == "requested"
    too_many = client.post(f"/orders/{order.pk}/return/", {f"qty-{line.pk}": "5", "reason": "defective"}, follow=True)
    assert Return.objects.count() == 1 and "1" in too_many.content.decode()

    client.force_login(cn_seller)
    assert 'data-testid="approve"' in client.get("/seller/returns/").content.decode()
    client.post(f"/seller/returns/{ret.pk}/decide/", {"decision": "approve"})
    assert Return.objects.get().status == "approved"

    client.force_login(buyer_kz)
    client.post(f"/returns/{ret.pk}/ship/", {"tracking_number": "KZ-RET-9"})
    assert Return.objects.get().status == "in_transit"

    operator = make_user("operator_ala", "operator")
    Warehouse.objects.get(code="ALA").operators.add(operator)
    client.force_login(operator)
    html = client.get("/operator/returns/").content.decode()
    assert 'data-testid="receive-form"' in html and "KZ-RET-9" in html
    client.post(f"/operator/returns/{ret.pk}/receive/", {f"restock-{line.pk}": "1", f"damaged-{line.pk}": "0"})
    assert Return.objects.get().status == "received"
    assert Order.objects.get(pk=order.pk).status == "delivered"


def test_other_roles_do_not_reach_these_pages(client, buyer_kz, make_user):
    client.force_login(buyer_kz)
    assert client.get("/seller/orders/").status_code == 404
    assert client.get("/operator/returns/").status_code == 404
    client.force_login(make_user("seller_z", "seller"))
    assert client.get("/operator/returns/").status_code == 404
