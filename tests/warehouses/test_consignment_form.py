"""The seller's consignment form: From defaults to the seller's own country, the route's legs and
crossing previewed as From and To change, lines added and removed (with and without script), SKUs
found by search."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.html import escape

from core.models import Place
from warehouses.models import Consignment
from warehouses.routes import MODES

from .conftest import SkuFactory

pytestmark = pytest.mark.django_db

URL = "/warehouses/consignments/new/"


def selected(html, name):
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    found = re.search(r'<option value="([^"]*)"[^>]*selected', select)
    return found.group(1) if found else ""


def post(company, rows, action="submit", total=None, **head):
    data = {"company": company.pk, "warehouse": "TAS", "origin": "LHW", "border_crossing": "", "currency": "USD",
            "note": "", action: "1", "lines-TOTAL_FORMS": str(total or max(len(rows), 1)), "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "200", **head}
    for i, row in enumerate(rows):
        code, qty, value, *delete = row
        data.update({f"lines-{i}-sku": code, f"lines-{i}-quantity": qty, f"lines-{i}-declared_value": value})
        if delete:
            data[f"lines-{i}-DELETE"] = "on"
    return data


def test_from_defaults_to_the_sellers_own_country_and_to_across_the_border(client, seller, other_seller, wh):
    client.force_login(seller)  # a Chinese company: from Lanzhou to Almaty through Alashankou
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (selected(html, "origin"), selected(html, "warehouse"), selected(html, "border_crossing")) == (
        "LHW", "ALA", "BC-ALASHANKOU-DOSTYK")
    preview = re.search(r'data-testid="route-preview">(.*?)</div>', html, re.S).group(1)
    assert preview.count('data-testid="route-leg"') == 2 and "Alashankou" in preview and "Crosses the border" in preview

    client.force_login(other_seller)  # a Kazakh company: from Almaty to Lanzhou through Khorgos
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (selected(html, "origin"), selected(html, "warehouse"), selected(html, "border_crossing")) == (
        "ALA", "LHW", "BC-KHORGOS-ALTYNKOL")
    assert 'hx-get="/warehouses/consignments/route/"' in html


def test_the_route_preview_follows_from_to_and_the_crossing_in_the_readers_language(client, seller, wh):
    client.force_login(seller)
    url = "/warehouses/consignments/route/"
    html = client.get(url, {"origin": "XIY", "warehouse": "ALA"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    legs = re.findall(r'data-testid="route-leg"', html)
    assert len(legs) == 2 and "Alashankou" in html and "rail" in html and "unless you choose another" in html
    russian = client.get(url, {"origin": "XIY", "warehouse": "ALA"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Алашанькоу – Достык" in russian and "Alashankou" not in russian
    same = client.get(url, {"origin": "KHG", "warehouse": "ALA"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert same.count('data-testid="route-leg"') == 1 and "no border" in same
    unknown = client.get(url, {"origin": "ASB", "warehouse": "TAS"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="route-problem"' in unknown and "choose the border crossing" in unknown
    chosen = client.get(url, {"origin": "URC", "warehouse": "TAS", "border_crossing": "BC-TORUGART"},
                        HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Torugart" in chosen and "Irkeshtam" not in chosen
    with CaptureQueriesContext(connection) as queries:
        client.get(url, {"origin": "LHW", "warehouse": "TAS"})
    assert len(queries.captured_queries) <= 8  # session, user, roles, companies, the warehouse, the places


def test_lines_are_added_without_script_and_removed_lines_are_not_sent(client, seller, seller_company, wh):
    a, b, c = (SkuFactory(company=seller_company, code=f"CASE-{i}") for i in range(3))
    client.force_login(seller)
    html = client.get(URL).content.decode()
    assert html.count('data-testid="line"') == 3 + 1  # three lines and the template of a new one
    assert 'id="lines-empty"' in html and "__prefix__" in html

    # "Add a line" without script: the same form again, one line more, what was typed kept, nothing saved.
    more = client.post(URL, post(seller_company, [(a.code, 5, "10.00"), ("", "", ""), ("", "", "")], action="add_line"))
    html = more.content.decode()
    assert more.status_code == 200 and not Consignment.objects.exists()
    assert 'name="lines-TOTAL_FORMS" value="4"' in html and 'name="lines-3-sku"' in html
    assert f'value="{a.code}"' in html

    # Four lines, the second removed: the consignment has three, in order.
    done = client.post(URL, post(seller_company, [(a.code, 5, "10.00"), (b.code, 9, "20.00", "remove"),
                                                  (c.code, 7, "30.00"), ("", "", "")]))
    consignment = Consignment.objects.get()
    assert done.status_code == 302 and consignment.status == "submitted"
    assert [(ln.sku.code, ln.expected_qty) for ln in consignment.lines.order_by("id")] == [(a.code, 5), (c.code, 7)]
    # The crossing left to the route is the one the preview named.
    assert consignment.border_crossing_id == "BC-IRKESHTAM"
    assert [(leg["from"], leg["to"], leg["mode"]) for leg in consignment.legs] == [
        ("LHW", "BC-IRKESHTAM", "rail-road"), ("BC-IRKESHTAM", "TAS", "road-rail")]

    # Its page says the route, the journey and the warehouse in the reader's words, not in codes.
    html = client.get(f"/warehouses/consignments/{consignment.pk}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    with translation.override("ru"):
        words = [Place.objects.get(code=code).name("ru") for code in ("LHW", "BC-IRKESHTAM", "TAS")]
        words += [str(MODES["rail-road"]), str(Consignment.Status.SUBMITTED.label)]
    for word in words:
        assert escape(word) in html, word
    assert "(rail-road)" not in html and ">submitted<" not in html


def test_the_sku_search_finds_only_the_sellers_own(client, seller, seller_company, other_seller, wh):
    SkuFactory(company=seller_company, code="CASE-RED", name="Red phone case")
    SkuFactory(company=other_seller.company, code="CASE-BLUE", name="Blue phone case")
    client.force_login(seller)
    html = client.get("/warehouses/consignments/skus/", {"lines-4-sku": "case"}).content.decode()
    assert 'data-sku-code="CASE-RED"' in html and "CASE-BLUE" not in html
    assert "Red phone case" in client.get("/warehouses/consignments/skus/", {"q": "red"}).content.decode()
    assert 'data-testid="sku-none"' in client.get("/warehouses/consignments/skus/", {"q": "zzz"}).content.decode()
    # Another seller's code typed by hand is refused on its line.
    refused = client.post(URL, post(seller_company, [("CASE-BLUE", 1, "5.00")]), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200 and not Consignment.objects.exists()
    assert "Not one of your company" in refused.content.decode()
