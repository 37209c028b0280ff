"""The customs API: the quote (customs value, taxes, landed cost, breakdown), the declarations queue,
documents, broker actions."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from customs.labels import regime_label
from customs.models import Declaration, TariffLine

from .conftest import d
from .factories import PDF, declaration

pytestmark = pytest.mark.django_db

QUOTE = {
    "origin_country": "CN", "destination_country": "KZ", "currency": "KZT", "date": "2026-03-01",
    "shipping": {"amount": "5000.00", "currency": "KZT"}, "insurance": {"amount": "0.00", "currency": "KZT"},
    "lines": [{"hs_code": "851713", "description": "Phone", "quantity": 2,
               "unit_price": {"amount": "150000.00", "currency": "KZT"}, "weight_kg": "0.350"}],
}


def post_quote(api, **changes):
    body = {**QUOTE, **changes}
    return api.post("/api/v1/customs/quote/", body, format="json")


def test_quote_answers_the_product_shape(api, tariff):
    resp = post_quote(api)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert {"regime", "customs_value", "duty", "vat", "excise", "fees", "taxes_total", "landed_cost", "fx", "breakdown"} <= set(body)
    assert body["duty"] == {"amount": "27292.57", "currency": "KZT"}
    assert body["landed_cost"] == {"amount": "332292.57", "currency": "KZT"}
    assert body["fx"][0] == {"from": "EUR", "to": "KZT", "rate": "590.2475997980", "as_of": "2025-03-17"}
    payment = next(b for b in body["breakdown"] if b["kind"] == "parcel_payment")
    assert set(payment) == {"kind", "line", "base", "rate", "amount", "rule", "source"}
    assert payment["rate"] == "15" and payment["source"].startswith("https://")


def line_with(**changes):
    return [{**QUOTE["lines"][0], **changes}]


@pytest.mark.parametrize(("changes", "status", "code", "field"), [
    ({"destination_country": "XX"}, 400, "unknown_country", "destination_country"),
    ({"currency": "ABC"}, 400, "unknown_currency", "currency"),
    ({"lines": line_with(hs_code="85171")}, 400, "invalid_hs_code", "lines.0.hs_code"),
    ({"lines": line_with(hs_code="991234")}, 400, "invalid_hs_code", "lines.0.hs_code"),
    ({"lines": line_with(unit_price={"amount": "-1.00", "currency": "KZT"})}, 400, "invalid_amount", "lines.0.unit_price"),
    ({"lines": line_with(weight_kg=None)}, 400, "validation_error", "lines.0.weight_kg"),
    ({"lines": line_with(quantity=0)}, 400, "validation_error", "lines.0.quantity"),
    ({"lines": []}, 400, "validation_error", "lines"),
    ({"lines": line_with(unit_price={"amount": 1.5, "currency": "KZT"})}, 400, "validation_error", "lines.0.unit_price"),
])
def test_bad_quote_input_names_the_field(api, tariff, changes, status, code, field):
    resp = post_quote(api, **changes)
    assert resp.status_code == status, resp.content
    err = resp.json()["error"]
    assert err["code"] == code and field in err["fields"]


def test_unknown_hs_code_for_a_cbec_order_is_a_400_not_a_zero_tax(api, tariff):
    body = {**QUOTE, "origin_country": "KZ", "destination_country": "CN", "currency": "CNY",
            "shipping": {"amount": "0.00", "currency": "CNY"}, "insurance": {"amount": "0.00", "currency": "CNY"},
            "lines": [{**QUOTE["lines"][0], "hs_code": "851712", "unit_price": {"amount": "100.00", "currency": "CNY"}}]}
    err = api.post("/api/v1/customs/quote/", body, format="json").json()["error"]
    assert err["code"] == "invalid_hs_code" and "lines.0.hs_code" in err["fields"]


def test_quote_for_another_buyers_allowance_is_refused(api_as, make_user, tariff):
    me, other = make_user("me", "buyer"), make_user("other", "buyer")
    resp = post_quote(api_as(me), buyer=other.pk)
    assert resp.status_code == 403 and "buyer" in resp.json()["error"]["fields"]


@pytest.fixture
def kz_duty(tariff):
    TariffLine.objects.create(hs_code="851713", country="KZ", description="test", duty_percent=Decimal("5"),
                              effective_from=d("2020-01-01"), source="test")


def test_declarations_list_filters_and_scopes(api_as, make_user, kz_duty):
    broker, seller, stranger = make_user("broker", "broker"), make_user("seller", "seller"), make_user("x", "seller")
    mine = declaration(reference="A", actor=seller)
    declaration(reference="B", kind="import")
    client = api_as(broker)
    assert {r["reference"] for r in client.get("/api/v1/customs/declarations/").json()["results"]} == {"A", "B"}
    assert [r["reference"] for r in client.get("/api/v1/customs/declarations/?kind=import").json()["results"]] == ["B"]
    assert client.get("/api/v1/customs/declarations/?status=released").json()["results"] == []
    assert client.get("/api/v1/customs/declarations/?status=nope").status_code == 400
    assert client.get("/api/v1/customs/declarations/?date_from=2020-13-01").json()["error"]["fields"] == {"date_from": ["Enter a date as YYYY-MM-DD."]}
    assert [r["reference"] for r in api_as(seller).get("/api/v1/customs/declarations/").json()["results"]] == ["A"]
    assert api_as(stranger).get(f"/api/v1/customs/declarations/{mine.id}/").status_code == 404


def test_detail_has_lines_documents_and_events(api_as, make_user, kz_duty, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    broker = make_user("broker", "broker")
    info = declaration()
    client = api_as(broker)
    up = client.post(f"/api/v1/customs/declarations/{info.id}/documents/",
                     {"kind": "invoice", "file": SimpleUploadedFile("invoice.pdf", PDF, "application/pdf")}, format="multipart")
    assert up.status_code == 201, up.content
    bad = client.post(f"/api/v1/customs/declarations/{info.id}/documents/",
                      {"kind": "invoice", "file": SimpleUploadedFile("x.exe", b"MZ...", "application/pdf")}, format="multipart")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_document"
    client.post(f"/api/v1/customs/declarations/{info.id}/submit/")
    body = client.get(f"/api/v1/customs/declarations/{info.id}/").json()
    assert body["status"] == "submitted"
    assert body["lines"][0]["hs_code"] == "851713" and body["lines"][0]["value"] == {"amount": "1000000.00", "currency": "KZT"}
    assert [doc["kind"] for doc in body["documents"]] == ["invoice"]
    assert [(e["kind"], e["status"], e["actor"]) for e in body["events"]] == [("document", "", "broker"), ("status", "submitted", "broker")]


def test_broker_transition_via_api_and_illegal_one_is_409(api_as, make_user, kz_duty):
    from customs import services

    broker = make_user("broker", "broker")
    info = declaration()
    services.declaration_submit(declaration_id=info.id, actor=broker)
    services.gateway_register(declaration_id=info.id)
    client = api_as(broker)
    resp = client.post(f"/api/v1/customs/declarations/{info.id}/transition/", {"action": "release"}, format="json")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "illegal_transition"
    resp = client.post(f"/api/v1/customs/declarations/{info.id}/transition/", {"action": "inspect"}, format="json")
    assert resp.json()["status"] == "red" and resp.json()["channel"] == "red"
    resp = client.post(f"/api/v1/customs/declarations/{info.id}/transition/", {"action": "reject"}, format="json")
    assert resp.status_code == 400 and "reason" in resp.json()["error"]["fields"]
    assert Declaration.objects.get(pk=info.id).status == "red"


def test_broker_queue_page_lists_declarations_with_actions(client, make_user, kz_duty):
    broker = make_user("broker", "broker")
    info = declaration(reference="CONS-UI")
    client.force_login(broker)
    page = client.get("/customs/")
    assert page.status_code == 200 and b"CONS-UI" in page.content
    detail = client.get(f"/customs/{info.id}/")
    assert b"851713" in detail.content and b"218" in detail.content  # duties 218,000 KZT
    # The regime in the broker's words.
    regime = Declaration.objects.get(pk=info.id).regime
    html = client.get(f"/customs/{info.id}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    with translation.override("ru"):
        assert f"({regime_label(regime)})" in html and f"({regime})" not in html
    seller = make_user("seller", "seller")
    client.force_login(seller)
    assert client.get("/customs/").status_code == 403
