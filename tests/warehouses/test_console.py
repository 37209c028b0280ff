"""The operator console: what an operator sees and does, and what others cannot."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from core.access import SYSTEM_ACTOR
from core.models import Place
from warehouses import services
from warehouses.models import BondStatus, Movement, StockLevel

from .conftest import SkuFactory, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, operator_tas):
    client.force_login(operator_tas)
    return client


def page(client, url, **kwargs) -> str:
    """The HTML of a page that must render: an error page fails here rather than pass an assertion
    that something is absent from it."""
    response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def posted(response, location=None):
    """A form post the console accepts redirects (to ``location`` when given); an error page fails."""
    assert response.status_code == 302, response.status_code
    if location is not None:
        assert response["Location"] == location
    return response


def test_stock_page_shows_the_operators_rows_and_flags_low_stock(console, seller_company, wh):
    plenty = SkuFactory(company=seller_company, code="PH-1", low_stock_threshold=5)
    scarce = SkuFactory(company=seller_company, code="PH-2", low_stock_threshold=5)
    book("TAS", plenty, 50)
    book("TAS", scarce, 3)
    book("ALA", SkuFactory(company=seller_company, code="ALA-ONLY"), 9)
    html = page(console, "/warehouses/TAS/")
    assert "PH-1" in html and "PH-2" in html and "ALA-ONLY" not in html
    assert html.count('class="low"') == 1
    low_only = page(console, "/warehouses/TAS/?low=on")
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

    count(25)  # the KPIs and the chart are cached until the next movement: compare warm pages
    small, large = count(25), count(200)
    assert small == large
    html = page(console, "/warehouses/TAS/?page_size=25")
    assert html.count("<tr") == 26  # header + 25 rows


def _codes(html):
    import re

    return re.findall(r"<td[^>]*><strong>(S-\d{3})</strong>", html)


def _next(html):
    import re

    found = re.search(r'href="\?([^"]*)" rel="next"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.parametrize("sort", ["sku", "-on_hand", "available", "-age", "seller"])
def test_stock_pages_walk_every_row_once_in_order_without_counting(console, seller_company, wh, sort):
    from core.models import Company

    other = Company.objects.create(name="Aaa Traders", country_id="CN", tax_id="999000111")
    for i in range(60):
        book("TAS", SkuFactory(company=seller_company if i % 2 else other, code=f"S-{i:03d}"), 10 + i % 7)
    seen, query, pages = [], f"sort={sort}&page_size=25", []
    while query is not None:
        with CaptureQueriesContext(connection) as ctx:
            html = page(console, f"/warehouses/TAS/?{query}")
        pages.append(len(ctx.captured_queries))
        assert not any("COUNT(" in q["sql"] and "stock_level" in q["sql"] and "LIMIT" not in q["sql"]
                       and "SUM(" not in q["sql"] for q in ctx.captured_queries)
        seen += _codes(html)
        query = _next(html)
    assert sorted(seen) == [f"S-{i:03d}" for i in range(60)] and len(seen) == 60
    assert len(set(pages[1:])) == 1  # page 3 costs what page 2 does (page 1 also fills the KPI cache)
    if sort == "sku":
        assert seen == sorted(seen)
    # the last page links back to the one before it
    import re

    prev = re.search(r'href="\?([^"]*)" rel="prev"', html).group(1).replace("&amp;", "&")
    assert _codes(page(console, f"/warehouses/TAS/?{prev}")) == seen[25:50]


def test_a_garbled_cursor_shows_the_first_page(console, seller_company, wh):
    book("TAS", SkuFactory(company=seller_company, code="S-001"), 3)
    for cursor in ["garbage", "WyJuIiwgWzFdXQ", "WyJuIixbIngiLCJ5Iiwibm90LWFuLWlkIl1d"]:
        response = console.get(f"/warehouses/TAS/?cursor={cursor}")
        assert response.status_code == 200 and "S-001" in response.content.decode()


def test_movement_pages_keep_their_query_count(console, seller_company, wh):
    sku = SkuFactory(company=seller_company, code="S-100")
    for _ in range(120):
        book("TAS", sku, 1)

    def fetch(query):
        with CaptureQueriesContext(connection) as ctx:
            html = page(console, f"/warehouses/TAS/movements/?{query}")
        return html, len(ctx.captured_queries)

    first, n1 = fetch("")
    assert _next(first) is not None
    second, n2 = fetch(_next(first))
    assert _next(second) is not None
    third, n3 = fetch(_next(second))
    assert n1 == n2 == n3 and _next(third) is None
    assert first.count("<tr") + second.count("<tr") + third.count("<tr") == 120 + 3


def test_stock_page_query_count(console, seller_company, wh, django_assert_max_num_queries):
    for _ in range(30):
        book("TAS", SkuFactory(company=seller_company), 5)
    page(console, "/warehouses/TAS/")  # warm the session
    with django_assert_max_num_queries(12):
        html = page(console, "/warehouses/TAS/?page_size=200")
    assert html.count("<tr") == 31  # header + 30 rows: the page did its work within the budget


def test_csv_export_follows_the_filters(console, seller_company, wh):
    book("TAS", SkuFactory(company=seller_company, code="KEEP-1"), 4)
    book("TAS", SkuFactory(company=seller_company, code="DROP-1"), 4, "released")
    response = console.get("/warehouses/TAS/stock.csv?bond_status=bonded")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
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
    history = page(console, "/warehouses/TAS/movements/?kind=adjust")
    assert "wet" in history and "operator_tas" in history


def test_pick_pack_ship_fires_the_callers_callback(console, sku, wh, monkeypatch, django_capture_on_commit_callbacks):
    book("TAS", sku, 10, "released")
    StockLevel.objects.filter(sku=sku).update(location="B02-03")
    services.stock_reserve(lines=[(sku.pk, 2)], storefront_warehouses=["TAS"], buyer_country="UZ", reference="ORD-77",
                           ttl_seconds=None, actor=SYSTEM_ACTOR)
    [fulfilment] = services.fulfilment_request(reference="ORD-77", callback_task="marketplace.parcel_shipped",
                                               actor=SYSTEM_ACTOR)
    picking = page(console, "/warehouses/TAS/picking/")
    assert "B02-03" in picking and "ORD-77" in picking
    # The units' customs status in the reader's words, not the stored value.
    picking_ru = page(console, "/warehouses/TAS/picking/", HTTP_ACCEPT_LANGUAGE="ru")
    with translation.override("ru"):
        released = str(BondStatus.RELEASED.label)
    assert ">released<" not in picking_ru and f">{released}<" in picking_ru
    sent = []
    monkeypatch.setattr("warehouses.services.fulfilment.current_app.send_task",
                        lambda name, args, kwargs: sent.append((name, args, kwargs)))
    back = "/warehouses/TAS/picking/"
    with django_capture_on_commit_callbacks(execute=True):
        posted(console.post(f"/warehouses/TAS/fulfilments/{fulfilment.pk}/pick/"), back)
    with django_capture_on_commit_callbacks(execute=True):
        posted(console.post(f"/warehouses/TAS/fulfilments/{fulfilment.pk}/pack/",
                            {"weight_g": 450, "length_mm": 200, "width_mm": 150, "height_mm": 80}), back)
    with django_capture_on_commit_callbacks(execute=True):
        posted(console.post(f"/warehouses/TAS/fulfilments/{fulfilment.pk}/ship/"), back)
    fulfilment.refresh_from_db()
    assert fulfilment.status == "shipped"
    assert [(name, args[:2], args[2] == [], kwargs) for name, args, kwargs in sent] == [
        ("marketplace.parcel_shipped", ["ORD-77", "TAS"], True, {"status": "picking"}),
        ("marketplace.parcel_shipped", ["ORD-77", "TAS"], True, {"status": "packed"}),
        ("marketplace.parcel_shipped", ["ORD-77", "TAS"], False, {"status": "shipped"}),
    ]
    assert sent[2][1][2][0].startswith("KRVTAS")
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (8, 0)
    after = page(console, "/warehouses/TAS/picking/")
    assert "Nothing to pick" in after and "No orders waiting" in after


def test_seller_sees_own_consignments_with_discrepancies_only(client, seller, seller_company, other_seller, wh):
    mine = services.consignment_create(company_id=seller_company.pk, warehouse="TAS", origin="URC",
                                       border_crossing="BC-IRKESHTAM",
                                       lines=[(SkuFactory(company=seller_company).pk, 5)], actor=seller)
    client.force_login(other_seller)
    assert client.get(f"/warehouses/consignments/{mine.pk}/").status_code == 404
    assert mine.number not in page(client, "/warehouses/consignments/")
    client.force_login(seller)
    assert mine.number in page(client, "/warehouses/consignments/")
    assert mine.number in page(client, f"/warehouses/consignments/{mine.pk}/")
    assert client.get("/warehouses/TAS/").status_code == 404


def _consignment_post(sku_rows, action="submit", **head):
    data = {"company": head.get("company", ""), "warehouse": "TAS", "origin": "URC", "border_crossing": "BC-IRKESHTAM",
            "currency": "USD", "note": "", action: "1", "lines-TOTAL_FORMS": "5", "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "200"}
    for i, (sku, qty, value) in enumerate(sku_rows):
        data.update({f"lines-{i}-sku": sku, f"lines-{i}-quantity": qty, f"lines-{i}-declared_value": value})
    return data


def test_seller_creates_and_submits_a_consignment_from_the_web(client, seller, seller_company, other_seller, wh):
    from warehouses.models import Consignment

    mine = SkuFactory(company=seller_company, code="MINE-1")
    theirs = SkuFactory(company=other_seller.company, code="THEIRS-1")
    client.force_login(seller)
    form = page(client, "/warehouses/consignments/new/")
    assert "BC-IRKESHTAM" in form
    found = page(client, "/warehouses/consignments/skus/?lines-0-sku=1")  # the line's SKU search
    assert "MINE-1" in found and "THEIRS-1" not in found
    refused = client.post("/warehouses/consignments/new/", _consignment_post([(theirs.code, 5, "10.00")],
                                                                            company=seller_company.pk))
    assert refused.status_code == 200 and not Consignment.objects.exists()
    assert "Not one of your company&#x27;s SKUs." in refused.content.decode()
    done = client.post("/warehouses/consignments/new/", _consignment_post([(mine.code, 20, "450.00")],
                                                                         company=seller_company.pk))
    c = Consignment.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/warehouses/consignments/{c.pk}/"
    assert c.status == "submitted" and c.lines.get().declared_value.minor == 45000
    detail = page(client, done["Location"])
    crossing = Place.objects.get(code="BC-IRKESHTAM").name("en")
    assert "MINE-1" in detail and 'data-state="submitted"' in detail and f"→ {crossing}" in detail


def test_a_consignment_without_values_stays_a_draft_and_says_why(client, seller, seller_company, wh):
    from warehouses.models import Consignment

    mine = SkuFactory(company=seller_company, code="MINE-2")
    client.force_login(seller)
    response = client.post("/warehouses/consignments/new/", _consignment_post([(mine.code, 5, "")], company=seller_company.pk),
                           follow=True)
    assert response.status_code == 200 and response.redirect_chain  # saved, then shown with the reason
    assert Consignment.objects.get().status == "draft"
    assert "Complete the consignment for customs before submitting it." in response.content.decode()


def test_operators_cannot_open_the_seller_form(console, wh):
    assert console.get("/warehouses/consignments/new/").status_code == 404
