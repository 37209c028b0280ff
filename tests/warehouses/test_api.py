"""The warehouses API: visibility per role, the error envelope on bad input, the flows."""

import pytest

from core.access import SYSTEM_ACTOR
from warehouses import services
from warehouses.models import Consignment, StockLevel

from .conftest import SkuFactory, book

pytestmark = pytest.mark.django_db


def err(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_warehouse_list(api_as, seller, wh):
    codes = [w["code"] for w in api_as(seller).get("/api/v1/warehouses/").json()]
    assert set(codes) == {"TAS", "ALA", "KHG", "LHW", "XIY"}


def test_operator_reads_own_stock_and_gets_404_for_another_warehouse(api_as, operator_tas, sku, wh):
    book("TAS", sku, 12)
    book("ALA", sku, 30)
    client = api_as(operator_tas)
    body = client.get("/api/v1/warehouses/TAS/stock/").json()
    assert [(r["sku_code"], r["on_hand"], r["available"], r["bond_status"]) for r in body["results"]] == [
        ("PHONE-X1", 12, 12, "bonded")]
    assert err(client.get("/api/v1/warehouses/ALA/stock/"), 404)["code"] == "not_found"
    assert err(client.get("/api/v1/warehouses/ALA/movements/"), 404)["code"] == "not_found"
    assert err(client.post("/api/v1/warehouses/ALA/adjustments/", {}), 404)["code"] == "not_found"


def test_stock_filters_and_pagination(api_as, operator_tas, seller_company, wh):
    skus = [SkuFactory(company=seller_company, code=f"CASE-{i:02d}", low_stock_threshold=5) for i in range(5)]
    for i, sku in enumerate(skus):
        book("TAS", sku, 3 + i * 2)
    client = api_as(operator_tas)
    low = client.get("/api/v1/warehouses/TAS/stock/?low=1").json()["results"]
    assert sorted(r["sku_code"] for r in low) == ["CASE-00", "CASE-01"] and all(r["low_stock"] for r in low)
    assert [r["sku_code"] for r in client.get("/api/v1/warehouses/TAS/stock/?q=case-03").json()["results"]] == ["CASE-03"]
    first = client.get("/api/v1/warehouses/TAS/stock/?page_size=2").json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 2 and not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_seller_sees_only_their_own_skus_stock(api_as, seller, other_seller, sku, wh):
    book("TAS", sku, 5)
    theirs = SkuFactory(company=other_seller.company)
    book("TAS", theirs, 9)
    rows = api_as(other_seller).get("/api/v1/warehouses/TAS/stock/").json()["results"]
    assert [r["sku"] for r in rows] == [theirs.pk]


def test_adjustment_bad_input_names_the_field_and_writes_nothing(api_as, operator_tas, sku, wh):
    book("TAS", sku, 5)
    client = api_as(operator_tas)
    for body, field in [
        ({"sku": sku.pk, "bond_status": "bonded", "quantity": 10**12, "reason": "count"}, "quantity"),
        ({"sku": sku.pk, "bond_status": "frozen", "quantity": 1, "reason": "count"}, "bond_status"),
        ({"sku": 987654, "bond_status": "bonded", "quantity": 1, "reason": "count"}, "sku"),
        ({"sku": sku.pk, "bond_status": "bonded", "quantity": 0, "reason": "count"}, "quantity"),
    ]:
        assert field in err(client.post("/api/v1/warehouses/TAS/adjustments/", body), 400)["fields"]
    e = err(client.post("/api/v1/warehouses/TAS/adjustments/",
                        {"sku": sku.pk, "bond_status": "bonded", "quantity": -6, "reason": "lost"}), 409)
    assert e["code"] == "insufficient_stock" and "quantity" in e["fields"]
    assert StockLevel.objects.get(sku=sku).on_hand == 5
    ok = client.post("/api/v1/warehouses/TAS/adjustments/",
                     {"sku": sku.pk, "bond_status": "bonded", "quantity": -2, "reason": "damaged", "note": "wet"})
    assert ok.status_code == 201 and ok.json()["quantity"] == -2
    moves = client.get("/api/v1/warehouses/TAS/movements/?kind=adjust").json()["results"]
    assert [(m["kind"], m["quantity"], m["actor_label"]) for m in moves] == [("adjust", -2, "operator_tas")]


def test_consignment_create_submit_and_errors(api_as, seller, seller_company, other_seller, operator_ala, wh):
    mine = SkuFactory(company=seller_company)
    theirs = SkuFactory(company=other_seller.company)
    client = api_as(seller)
    body = {"warehouse": "TAS", "origin": "URC", "border_crossing": "BC-IRKESHTAM",
            "lines": [{"sku": mine.pk, "quantity": 50}, {"sku": theirs.pk, "quantity": 1}]}
    e = err(client.post("/api/v1/consignments/", body, format="json"), 400)
    assert e["fields"] == {"lines.1.sku": ["Not one of your company's SKUs."]}
    body["lines"] = [{"sku": mine.pk, "quantity": -3}]
    assert "lines.0.quantity" in err(client.post("/api/v1/consignments/", body, format="json"), 400)["fields"]
    body["lines"] = [{"sku": mine.pk, "quantity": 50}]
    body["warehouse"] = "XXX"
    assert "warehouse" in err(client.post("/api/v1/consignments/", body, format="json"), 400)["fields"]
    assert not Consignment.objects.exists()
    body["warehouse"] = "TAS"
    created = client.post("/api/v1/consignments/", body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert created.status_code == 201, created.content
    replay = client.post("/api/v1/consignments/", body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert replay.json()["id"] == created.json()["id"] and Consignment.objects.count() == 1
    e = err(client.post(f"/api/v1/consignments/{created.json()['id']}/submit/"), 400)
    assert e["fields"] == {"lines.0.declared_value": ["Declare the value of this line for customs."]}
    body["lines"] = [{"sku": mine.pk, "quantity": 50, "declared_value": {"amount": "-1.00", "currency": "USD"}}]
    assert "lines.0.declared_value" in err(client.post("/api/v1/consignments/", body, format="json"), 400)["fields"]
    body["lines"] = [{"sku": mine.pk, "quantity": 50, "declared_value": {"amount": "1250.00", "currency": "USD"}}]
    created = client.post("/api/v1/consignments/", body, format="json")
    assert created.json()["lines"][0]["declared_value"] == {"amount": "1250.00", "currency": "USD"}
    cid = created.json()["id"]
    submitted = client.post(f"/api/v1/consignments/{cid}/submit/")
    assert submitted.json()["status"] == "submitted"
    assert [e["status"] for e in submitted.json()["events"]] == ["submitted"]
    # another seller and another warehouse's operator do not see it
    assert err(api_as(other_seller).get(f"/api/v1/consignments/{cid}/"), 404)["code"] == "not_found"
    assert err(api_as(operator_ala).post(f"/api/v1/consignments/{cid}/receive/", {"lines": []}, format="json"), 404)


def test_transfer_api(api_as, operator_tas, operator_ala, sku, wh):
    book("TAS", sku, 10, "released")
    client = api_as(operator_tas)
    e = err(client.post("/api/v1/transfers/", {"source": "ALA", "destination": "TAS",
                                               "lines": [{"sku": sku.pk, "bond_status": "released", "quantity": 1}]},
                        format="json"), 404)
    assert e["code"] == "not_found"
    created = client.post("/api/v1/transfers/", {"source": "TAS", "destination": "ALA",
                                                 "lines": [{"sku": sku.pk, "bond_status": "released", "quantity": 4}]},
                          format="json")
    assert created.status_code == 201 and created.json()["lines"][0]["arrival_bond_status"] == "bonded"
    received = api_as(operator_ala).post(f"/api/v1/transfers/{created.json()['id']}/receive/")
    assert received.json()["status"] == "received"
    assert StockLevel.objects.get(warehouse_id="ALA", sku=sku).on_hand == 4


def test_fulfilment_pick_pack_ship_through_the_api(api_as, operator_tas, operator_ala, sku, wh):
    book("TAS", sku, 10, "bonded")
    services.stock_reserve(lines=[(sku.pk, 3)], storefront_warehouses=["TAS"], buyer_country="KZ", reference="ORD-9",
                           actor=SYSTEM_ACTOR)
    services.fulfilment_request(reference="ORD-9", actor=SYSTEM_ACTOR)
    client = api_as(operator_tas)
    picks = client.get("/api/v1/warehouses/TAS/pick-list/").json()
    assert [(p["sku_code"], p["quantity"], p["references"]) for p in picks] == [("PHONE-X1", 3, ["ORD-9"])]
    listed = client.get("/api/v1/fulfilments/?warehouse=TAS&status=requested").json()["results"]
    assert [f["reference"] for f in listed] == ["ORD-9"]
    fid = listed[0]["id"]

    # another warehouse's operator sees none of it
    ala = api_as(operator_ala)
    assert err(ala.get("/api/v1/warehouses/TAS/pick-list/"), 404)["code"] == "not_found"
    assert ala.get("/api/v1/fulfilments/").json()["results"] == []
    assert err(ala.post(f"/api/v1/fulfilments/{fid}/pick/"), 404)["code"] == "not_found"

    client = api_as(operator_tas)
    assert err(client.post(f"/api/v1/fulfilments/{fid}/ship/"), 409)["code"] == "illegal_transition"
    assert client.post(f"/api/v1/fulfilments/{fid}/pick/").json()["status"] == "picking"
    bad = err(client.post(f"/api/v1/fulfilments/{fid}/pack/",
                          {"parcels": [{"weight_g": 0, "length_mm": 300, "width_mm": 200, "height_mm": 100}]},
                          format="json"), 400)
    assert bad["code"] == "validation_error" and "parcels.0.weight_g" in bad["fields"]
    empty = err(client.post(f"/api/v1/fulfilments/{fid}/pack/", {"parcels": []}, format="json"), 400)["fields"]
    assert any(key.startswith("parcels") for key in empty)
    packed = client.post(f"/api/v1/fulfilments/{fid}/pack/",
                         {"parcels": [{"weight_g": 850, "length_mm": 300, "width_mm": 200, "height_mm": 100}]},
                         format="json")
    assert packed.json()["status"] == "packed" and packed.json()["parcels"][0]["weight_g"] == 850
    shipped = client.post(f"/api/v1/fulfilments/{fid}/ship/").json()
    assert shipped["status"] == "shipped"
    assert shipped["parcels"][0]["tracking_number"].startswith("KRVTAS")
    assert [e["status"] for e in shipped["events"]] == ["picking", "packed", "shipped"]
    assert StockLevel.objects.get(warehouse_id="TAS", sku=sku).on_hand == 7
    assert client.get("/api/v1/warehouses/TAS/pick-list/").json() == []


@pytest.mark.parametrize(("language", "message"), [
    ("en", "Enter a date as YYYY-MM-DD."), ("ru", "Введите дату в формате ГГГГ-ММ-ДД."),
    ("kk", "Күнді ЖЖЖЖ-АА-КК пішімінде енгізіңіз."), ("uz", "Sanani YYYY-MM-DD koʻrinishida kiriting."),
    ("zh-hans", "请按 YYYY-MM-DD 格式输入日期。"),
])
def test_a_refusal_comes_back_in_the_readers_language(api_as, operator_tas, wh, language, message):
    from django.utils import translation

    with translation.override(None):  # the request's language stays with the request, not the next test
        response = api_as(operator_tas).get("/api/v1/warehouses/TAS/movements/?from=31.12.2025",
                                            HTTP_ACCEPT_LANGUAGE=language)
    assert err(response, 400)["fields"] == {"from": [message]}
