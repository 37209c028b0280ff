"""The operator console: what an operator sees and does, and what others cannot."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.access import SYSTEM_ACTOR
from warehouses import services
from warehouses.models import Movement, StockLevel

from .conftest import SkuFactory, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, operator_tas):
    client.force_login(operator_tas)
    return client


def test_stock_page_shows_the_operators_rows_and_flags_low_stock(console, seller_company, wh):
    plenty = SkuFactory(company=seller_company, code="PH-1", low_stock_threshold=5)
    scarce = SkuFactory(company=seller_company, code="PH-2", low_stock_threshold=5)
    book("TAS", plenty, 50)
    book("TAS", scarce, 3)
    book("ALA", SkuFactory(company=seller_company, code="ALA-ONLY"), 9)
    html = console.get("/warehouses/TAS/").content.decode()
    assert "PH-1" in html and "PH-2" in html and "ALA-ONLY" not in html
    assert html.count('class="low"') == 1
    low_only = console.get("/warehouses/TAS/?low=on").content.decode()
    assert "PH-2" in low_only and "PH-1" not in low_only
    assert "chart-4.5.1.umd.min.js" in html


def test_another_warehouse_is_404(console, wh):
    assert console.get("/warehouses/ALA/").status_code == 404
    assert console.get("/warehouses/ALA/movements/").status_code == 404
    assert console.get("/warehouses/ALA/stock.csv").status_code == 404


def test_stock_page_queries_do_not_grow_with_page_size(console, seller_company, wh):
    for i in range(60):
        book("TAS", SkuFactory(company=seller_company, code=f"S-{i:03d}"), 10 + i)

    def count(size):
        with CaptureQueriesContext(connection) as ctx:
            response = console.get(f"/warehouses/TAS/?page_size={size}")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    small, large = count(25), count(200)
    assert small == large
    html = console.get("/warehouses/TAS/?page_size=25").content.decode()
    assert html.count("<tr") == 26  # header + 25 rows


def test_stock_page_query_count(console, seller_company, wh, django_assert_max_num_queries):
    for _ in range(30):
        book("TAS", SkuFactory(company=seller_company), 5)
    console.get("/warehouses/TAS/")  # warm the session
    with django_assert_max_num_queries(12):
        console.get("/warehouses/TAS/?page_size=200")


def test_csv_export_follows_the_filters(console, seller_company, wh):
    book("TAS", SkuFactory(company=seller_company, code="KEEP-1"), 4)
    book("TAS", SkuFactory(company=seller_company, code="DROP-1"), 4, "released")
    response = console.get("/warehouses/TAS/stock.csv?bond_status=bonded")
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("warehouse,sku,name,seller,bond_status,on_hand")
    assert len(lines) == 2 and lines[1].startswith("TAS,KEEP-1,")


def test_adjust_form_records_a_movement_or_shows_the_error(console, sku, wh):
    book("TAS", sku, 5)
    level = StockLevel.objects.get(sku=sku)
    bad = console.post(f"/warehouses/TAS/levels/{level.pk}/adjust/", {"quantity": -9, "reason": "lost"})
    assert bad.status_code == 200 and "Only 5 units" in bad.content.decode()
    ok = console.post(f"/warehouses/TAS/levels/{level.pk}/adjust/", {"quantity": -2, "reason": "damaged", "note": "wet"})
    assert ok.status_code == 302
    assert Movement.objects.filter(kind="adjust", quantity=-2, note="wet").exists()
    history = console.get("/warehouses/TAS/movements/?kind=adjust").content.decode()
    assert "wet" in history and "operator_tas" in history


def test_pick_pack_ship_fires_the_callers_callback(console, sku, wh, monkeypatch, django_capture_on_commit_callbacks):
    book("TAS", sku, 10, "released")
    StockLevel.objects.filter(sku=sku).update(location="B02-03")
    services.stock_reserve(lines=[(sku.pk, 2)], storefront_warehouses=["TAS"], buyer_country="UZ", reference="ORD-77",
                           ttl_seconds=None, actor=SYSTEM_ACTOR)
    [fulfilment] = services.fulfilment_request(reference="ORD-77", callback_task="marketplace.parcel_shipped",
                                               actor=SYSTEM_ACTOR)
    page = console.get("/warehouses/TAS/picking/").content.decode()
    assert "B02-03" in page and "ORD-77" in page
    sent = []
    monkeypatch.setattr("warehouses.services.current_app.send_task", lambda name, args: sent.append((name, args)))
    console.post(f"/warehouses/TAS/fulfilments/{fulfilment.pk}/pick/")
    console.post(f"/warehouses/TAS/fulfilments/{fulfilment.pk}/pack/",
                 {"weight_g": 450, "length_mm": 200, "width_mm": 150, "height_mm": 80})
    with django_capture_on_commit_callbacks(execute=True):
        console.post(f"/warehouses/TAS/fulfilments/{fulfilment.pk}/ship/")
    fulfilment.refresh_from_db()
    assert fulfilment.status == "shipped"
    [(name, args)] = sent
    assert name == "marketplace.parcel_shipped" and args[:2] == ["ORD-77", "TAS"] and args[2][0].startswith("KRVTAS")
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (8, 0)
    after = console.get("/warehouses/TAS/picking/").content.decode()
    assert "Nothing to pick" in after and "No orders waiting" in after


def test_seller_sees_own_consignments_with_discrepancies_only(client, seller, seller_company, other_seller, wh):
    mine = services.consignment_create(company_id=seller_company.pk, warehouse="TAS", origin="URC",
                                       border_crossing="BC-IRKESHTAM",
                                       lines=[(SkuFactory(company=seller_company).pk, 5)], actor=seller)
    client.force_login(other_seller)
    assert client.get(f"/warehouses/consignments/{mine.pk}/").status_code == 404
    assert mine.number not in client.get("/warehouses/consignments/").content.decode()
    client.force_login(seller)
    assert mine.number in client.get("/warehouses/consignments/").content.decode()
    assert client.get("/warehouses/TAS/").status_code == 404
