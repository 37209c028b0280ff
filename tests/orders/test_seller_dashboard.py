"""The seller's dashboard: sales per day, orders per status, stock per SKU and warehouse, money,
consignments on their way and discrepancies; only the seller's own, in a fixed number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.money import Money
from orders import services as orders
from payments.models import EscrowHold
from warehouses import services as wh_services
from warehouses.models import Consignment, Discrepancy

from .conftest import book, fund, make_product, order_body

pytestmark = pytest.mark.django_db


def place_paid(buyer, product, quantity, storefront="cn-kz"):
    order = orders.order_place(buyer=buyer, storefront=storefront, lines=[{"product": product.pk, "quantity": quantity}],
                               ship_to=order_body(storefront, [])["ship_to"])
    orders.order_pay(order=order, actor=buyer)
    return order


def in_transit(seller, product, quantity, warehouse="ALA"):
    c = wh_services.consignment_create(company_id=product.company_id, warehouse=warehouse, origin="XIY",
                                       border_crossing="BC-ALASHANKOU-DOSTYK",
                                       lines=[(product.sku_id, quantity, Money.of("500.00", "USD"))], actor=seller)
    Consignment.objects.filter(pk=c.pk).update(status="in_transit")  # the carrier's steps, without the simulator
    return c


def test_the_dashboard_shows_the_sellers_figures_and_nobody_elses(client, buyer_kz, cn_seller, kz_seller, honey,
                                                                   released_phone, make_user):
    first = place_paid(buyer_kz, released_phone, 1)
    second = place_paid(buyer_kz, released_phone, 2)
    c = in_transit(cn_seller, released_phone, 40)
    line = c.lines.get()
    Discrepancy.objects.create(consignment=c, line=line, sku_id=line.sku_id, kind="shortage", expected_qty=40,
                               counted_qty=37)
    client.force_login(cn_seller)

    page = client.get("/seller/")
    assert page.status_code == 200
    html = page.content.decode()
    # Sales: 3 phones at 95,000 KZT paid today, in one KZT chart with a bar for today.
    chart = re.search(r'data-testid="sales-chart" data-currency="KZT">(.*?)</figure>', html, re.S).group(1)
    assert Money.of("285000.00", "KZT").format("en") in chart
    assert "2 orders paid" in chart
    assert f'data-day="{timezone.localdate():%Y-%m-%d}"' in chart and chart.count("<rect") == 1
    # Orders per status, linked to the desk filtered by it.
    assert re.search(r'href="/seller/orders/\?status=paid" data-testid="status-link" data-status="paid">Paid</a> <strong>2</strong>',
                     html)
    # Stock: 7 available of 10 released in Almaty, 3 reserved, 40 on their way.
    row = re.search(rf'<tr data-testid="stock-row" data-sku="{released_phone.sku_code}" data-warehouse="ALA" '
                    r'data-bond="released">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num"[^>]*>(?:<strong>)?([\d,—]+)', row) == ["7", "10", "3", "40"]
    # Money: the buyers' escrow held for the company.
    held = sum(h.amount_minor for h in EscrowHold.objects.filter(reference__in=[first.reference, second.reference]))
    assert held and Money(held, "KZT").format("en") in html
    # Consignments on their way and the discrepancy to look at.
    assert c.number in html and "Shortage -3" in html
    assert f"#{first.pk}" not in html and second.pk  # the dashboard counts orders, the desk lists them
    # The honey seller's products, stock and orders appear nowhere.
    assert honey.sku_code not in html and "CNY" not in html

    # The Kazakh seller sees none of the phone seller's figures.
    client.force_login(kz_seller)
    other = client.get("/seller/").content.decode()
    assert released_phone.sku_code not in other and c.number not in other and "KZT" not in other
    assert 'data-testid="sales-empty"' in other and honey.sku_code in other

    # A buyer has no dashboard.
    client.force_login(buyer_kz)
    assert client.get("/seller/").status_code == 404


def test_a_seller_lands_on_the_dashboard_after_logging_in(client, cn_seller):
    cn_seller.set_password("pass-word-1234")
    cn_seller.save()
    response = client.post("/accounts/login/", {"username": cn_seller.username, "password": "pass-word-1234"})
    assert response.status_code == 302 and response["Location"] == "/seller/"
    assert 'data-testid="nav-dashboard"' in client.get("/seller/").content.decode()


def test_the_dashboard_costs_the_same_queries_for_few_or_many_products_orders_and_stock(
        client, buyer_kz, cn_seller, released_phone):
    fund(buyer_kz, "5000000.00", "KZT")
    place_paid(buyer_kz, released_phone, 1)
    in_transit(cn_seller, released_phone, 5)
    client.force_login(cn_seller)
    client.get("/seller/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/seller/").status_code == 200

    for i in range(25):  # more products than a page of stock rows, in two warehouses, with orders
        product = make_product(cn_seller.company, storefront="cn-kz", price="1000.00", title=f"Cable {i}",
                               hs_code="851713", category="phones", weight=100)
        book("ALA", product, 5, bond_status="released")
        book("TAS", product, 3)
        if i % 5 == 0:
            place_paid(buyer_kz, product, 1)
            in_transit(cn_seller, product, 2)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/seller/").content.decode()
    assert html.count('data-testid="stock-row"') == 20 and 'data-testid="stock-next"' in html
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(few.captured_queries) <= 20
    # The second page of stock answers too.
    assert client.get("/seller/?stock_page=2").content.decode().count('data-testid="stock-row"') > 0
