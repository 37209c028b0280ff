"""Inbound consignments: the journey through the transit simulator, receipt and discrepancies."""

import pytest

from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode
from core.money import Money
from core.states import history, transition
from customs import selectors as customs_selectors
from customs import services as customs_services
from tests.conftest import wait_for
from warehouses import services
from warehouses.models import Consignment, Discrepancy, Movement, StockLevel

from .conftest import SkuFactory, assert_ledger_consistent

NO_DELAYS = {"submitted": 0, "in_transit": 0, "at_border": 0}


def make_consignment(seller, company, skus, quantities, warehouse="TAS", values=None):
    values = values or [Money.of("100.00", "USD")] * len(skus)
    return services.consignment_create(
        company_id=company.pk, warehouse=warehouse, origin="URC", border_crossing="BC-IRKESHTAM",
        lines=list(zip([s.pk for s in skus], quantities, values, strict=True)), note="first shipment", actor=seller,
    )


@pytest.mark.django_db
def test_create_builds_the_route_and_refuses_bad_input(seller, seller_company, other_seller, wh):
    mine = SkuFactory(company=seller_company)
    theirs = SkuFactory(company=other_seller.company)
    c = make_consignment(seller, seller_company, [mine], [10])
    assert c.status == "draft" and c.number.startswith("CSG-")
    assert [(leg["from"], leg["to"]) for leg in c.legs] == [("URC", "BC-IRKESHTAM"), ("BC-IRKESHTAM", "TAS")]
    with pytest.raises(DomainError) as err:
        make_consignment(seller, seller_company, [mine, theirs], [1, 1])
    assert err.value.fields == {"lines.1.sku": ["Not one of your company's SKUs."]}
    with pytest.raises(DomainError) as err:
        make_consignment(seller, seller_company, [mine], [-5])
    assert "lines.0.quantity" in err.value.fields
    with pytest.raises(DomainError) as err:
        services.consignment_create(company_id=seller_company.pk, warehouse="TAS", origin="URC", border_crossing="URC",
                                    lines=[(mine.pk, 1)], actor=seller)
    assert "border_crossing" in err.value.fields
    assert Consignment.objects.count() == 1


@pytest.mark.django_db
def test_only_draft_or_submitted_consignments_cancel(seller, seller_company, wh):
    c = make_consignment(seller, seller_company, [SkuFactory(company=seller_company)], [3])
    services.consignment_cancel(consignment=c, actor=seller)
    with pytest.raises(DomainError) as err:
        services.consignment_submit(consignment=c, actor=seller)
    assert err.value.code == "illegal_transition"


def _receive_all(c, operator, counts_by_sku, notes_by_sku=None):
    lines = {ln.sku_id: ln.pk for ln in c.lines.all()}
    services.consignment_receive(consignment=c, counts={lines[k]: v for k, v in counts_by_sku.items()},
                                 notes={lines[k]: v for k, v in (notes_by_sku or {}).items()}, actor=operator)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_consignments_clear_through_customs_and_the_seller_sees_discrepancies(
        celery_worker, settings, make_user, seller, seller_company, operator_tas, operator_ala, wh):
    """Three consignments at once through a real worker and the customs simulator: green, documents
    requested (a broker assesses), and rejected. The worker's step latency dominates, so one test."""
    settings.WAREHOUSES_TRANSIT_DELAYS = NO_DELAYS
    # Invoices attached on paper: only the goods decide the channel.
    settings.CUSTOMS_SIMULATOR = {**settings.CUSTOMS_SIMULATOR, "invoice_required": False}
    broker = make_user("broker_a", "broker")
    phones = SkuFactory(company=seller_company, hs_code="851713", weight_g=200)
    cases = SkuFactory(company=seller_company, hs_code="392690", weight_g=50)
    cream = SkuFactory(company=seller_company, hs_code="330499", weight_g=100, name="Face cream")  # certificates
    rifles = SkuFactory(company=seller_company, hs_code="930200", name="Sporting rifle")  # prohibited chapter
    green = make_consignment(seller, seller_company, [phones, cases], [100, 40],
                             values=[Money.of("4000.00", "USD"), Money.of("200.00", "USD")])
    yellow = make_consignment(seller, seller_company, [cream], [10])
    rejected = make_consignment(seller, seller_company, [rifles], [2])
    for c in (green, yellow, rejected):
        services.consignment_submit(consignment=c, actor=seller)

    def customs_status(c, value):
        def check():
            c.refresh_from_db()
            return c.customs_status == value
        return check

    wait_for(customs_status(yellow, "yellow"), timeout=120)
    with pytest.raises(DomainError) as err:
        _receive_all(yellow, operator_tas, {cream.pk: 10})
    assert err.value.code == "customs_not_cleared"
    customs_services.declaration_act(declaration_id=yellow.customs_declaration_id, action="assess", actor=broker)

    wait_for(customs_status(green, "released"), timeout=120)
    assert green.status == "customs" and green.cleared_at is not None
    declaration = customs_selectors.declaration_for(f"consignment:{green.pk}")
    assert (declaration.id, declaration.kind, declaration.importer_country, declaration.status) == (
        green.customs_declaration_id, "import", "UZ", "released")
    assert declaration.customs_value.currency == "UZS" and declaration.duties.minor == 0  # bonded entry pays nothing
    road = [e for e in history(green) if e.machine == "consignment"]
    assert [(e.from_state, e.to_state, e.actor_label) for e in road] == [
        ("draft", "submitted", "seller_cn"), ("submitted", "in_transit", "system"),
        ("in_transit", "at_border", "system"), ("at_border", "customs", "system"),
    ]
    assert [e.place for e in road][1:] == ["URC", "BC-IRKESHTAM", "TAS"]
    # The clearance followed customs forward, as the system, from the declaration to its release
    # (callbacks may report several of customs' moves at once: steps can be skipped, never undone).
    clearance = [(e.from_state, e.to_state, e.actor_label) for e in history(green) if e.machine == "consignment_customs"]
    assert clearance[0][:2] == ("", "submitted") and clearance[-1][1] == "released"
    assert all(to == after for (_f, to, _a), (after, _t, _b) in zip(clearance, clearance[1:], strict=False))
    assert {who for *_states, who in clearance} == {"system"}

    with pytest.raises(DomainError):  # another warehouse's operator does not see it
        services.consignment_receive(consignment=green, counts={}, actor=operator_ala)
    _receive_all(green, operator_tas, {phones.pk: 97, cases.pk: 40}, {phones.pk: "3 boxes crushed"})
    green.refresh_from_db()
    assert green.status == "received"
    assert StockLevel.objects.get(warehouse_id="TAS", sku=phones, bond_status="bonded").on_hand == 97
    assert StockLevel.objects.get(warehouse_id="TAS", sku=cases, bond_status="bonded").on_hand == 40
    discrepancy = Discrepancy.objects.get()
    assert (discrepancy.sku_id, discrepancy.kind, discrepancy.difference, discrepancy.note) == (
        phones.pk, "shortage", -3, "3 boxes crushed")
    assert Movement.objects.filter(kind="discrepancy", quantity=-3, reference=green.number).exists()
    from core.access import visible

    assert list(visible(seller, Discrepancy.objects.all())) == [discrepancy]

    wait_for(customs_status(rejected, "rejected"), timeout=120)
    assert "chapter 93" in rejected.customs_note and rejected.cleared_at is None and rejected.status == "customs"
    with pytest.raises(DomainError) as err:
        _receive_all(rejected, operator_tas, {rifles.pk: 2})
    assert err.value.code == "customs_not_cleared"

    wait_for(customs_status(yellow, "released"), timeout=120)
    _receive_all(yellow, operator_tas, {cream.pk: 10})
    assert not StockLevel.objects.filter(sku=rifles, on_hand__gt=0).exists()
    assert StockLevel.objects.get(warehouse_id="TAS", sku=cream).on_hand == 10
    assert_ledger_consistent()


@pytest.mark.django_db
def test_submit_needs_a_declared_value_per_line_and_customs_data(seller, seller_company, wh):
    bare = SkuFactory(company=seller_company, hs_code="")
    valued = SkuFactory(company=seller_company)
    c = services.consignment_create(company_id=seller_company.pk, warehouse="TAS", origin="URC",
                                    border_crossing="BC-IRKESHTAM", lines=[(bare.pk, 5), (valued.pk, 5, Money.of("9.99", "USD"))],
                                    actor=seller)
    with pytest.raises(DomainError) as err:
        services.consignment_submit(consignment=c, actor=seller)
    assert err.value.fields == {"lines.0.declared_value": ["Declare the value of this line for customs."],
                                "lines.0.sku": [f"SKU {bare.code} has no HS code."]}
    c.refresh_from_db()
    assert c.status == "draft"
    with pytest.raises(DomainError) as err:  # one invoice currency per consignment
        make_consignment(seller, seller_company, [bare, valued], [1, 1],
                         values=[Money.of("1.00", "USD"), Money.of("1.00", "CNY")])
    assert err.value.code == "currency_mismatch" and "lines.1.declared_value" in err.value.fields
    with pytest.raises(DomainError) as err:
        make_consignment(seller, seller_company, [valued], [1], values=[Money(0, "USD")])
    assert "lines.0.declared_value" in err.value.fields


@pytest.mark.django_db
def test_a_consignment_within_one_country_needs_no_customs(make_user, other_seller, wh):
    from core.models import Place

    kz_sku = SkuFactory(company=other_seller.company, hs_code="040900")
    origin = Place.objects.filter(country_id="KZ").exclude(code="ALA").exclude(kind="border_crossing").first()
    c = services.consignment_create(company_id=other_seller.company.pk, warehouse="ALA", origin=origin.code,
                                    border_crossing=None, lines=[(kz_sku.pk, 3, Money.of("30.00", "KZT"))],
                                    actor=other_seller)
    services.consignment_submit(consignment=c, actor=other_seller)
    for expected in ["submitted", "in_transit", "at_border"]:
        services.consignment_advance(consignment=c, expected=expected, actor=SYSTEM_ACTOR)
    c.refresh_from_db()
    assert (c.status, c.customs_status, c.customs_declaration_id) == ("customs", "not_required", None)
    assert c.cleared_at is not None
    assert [(e.machine, e.from_state, e.to_state, e.actor_label) for e in history(c)][-1] == (
        "consignment_customs", "", "not_required", "system")


@pytest.mark.django_db
def test_receipt_waits_for_customs_and_needs_every_count(seller, seller_company, operator_tas, wh):
    c = make_consignment(seller, seller_company, [SkuFactory(company=seller_company)], [5])
    services.consignment_submit(consignment=c, actor=seller)
    for status in ["in_transit", "at_border", "customs"]:
        transition(c, status, actor=SYSTEM_ACTOR)
    line = c.lines.get()
    with pytest.raises(DomainError) as err:
        services.consignment_receive(consignment=c, counts={line.pk: 5}, actor=operator_tas)
    assert err.value.code == "customs_not_cleared"
    c.refresh_from_db()
    Consignment.objects.filter(pk=c.pk).update(cleared_at=c.submitted_at)  # as customs' release callback would
    with pytest.raises(DomainError) as err:
        services.consignment_receive(consignment=c, counts={}, actor=operator_tas)
    assert "lines.0.counted" in err.value.fields
    services.consignment_receive(consignment=c, counts={line.pk: 5}, actor=operator_tas)
    assert not Discrepancy.objects.exists()


@pytest.mark.django_db
def test_the_customs_clearance_only_goes_forward_whatever_order_the_callbacks_arrive_in(
        seller, seller_company, monkeypatch, wh):
    """Customs' callbacks read the declaration as it is when they run: a late one may read an older
    state. The clearance follows customs' road forward (skipping steps is fine), and an older read
    neither moves it back nor records anything; a repeated one records nothing either."""
    from types import SimpleNamespace

    from warehouses import customs_link

    c = make_consignment(seller, seller_company, [SkuFactory(company=seller_company)], [5])
    services.consignment_submit(consignment=c, actor=seller)
    for status in ["in_transit", "at_border", "customs"]:
        transition(c, status, actor=SYSTEM_ACTOR)
    reads = iter(["registered", "submitted", "registered", "released", "rejected", "released"])
    monkeypatch.setattr(customs_link, "declaration",
                        lambda reference: SimpleNamespace(id=77, status=next(reads), rejection_reason="late"))
    seen = []
    for _ in range(6):
        services.consignment_customs_changed(reference=customs_link.reference_of(c))
        c.refresh_from_db()
        seen.append(c.customs_status)
    assert seen == ["registered", "registered", "registered", "released", "released", "released"]
    assert c.customs_declaration_id == 77 and c.cleared_at is not None and c.customs_note == ""
    assert [(e.from_state, e.to_state, e.actor_label) for e in history(c) if e.machine == "consignment_customs"] == [
        ("", "registered", "system"), ("registered", "released", "system"),
    ]
    assert services.consignment_customs_changed(reference="order:1") is None  # not one of ours


@pytest.mark.django_db
def test_a_declaration_customs_refuses_is_recorded_with_its_reason(seller, seller_company, monkeypatch, wh):
    from warehouses import customs_link

    def refuse(consignment):
        raise DomainError(ErrorCode.VALIDATION, "Customs refused the declaration.", {"lines.0.hs_code": ["Unknown HS code."]})

    monkeypatch.setattr(customs_link, "declare_inbound", refuse)
    c = make_consignment(seller, seller_company, [SkuFactory(company=seller_company)], [5])
    services.consignment_submit(consignment=c, actor=seller)
    for expected in ["submitted", "in_transit", "at_border"]:
        c.refresh_from_db()
        services.consignment_advance(consignment=c, expected=expected, actor=SYSTEM_ACTOR)
    c.refresh_from_db()
    assert (c.status, c.customs_status, c.cleared_at) == ("customs", "declaration_refused", None)
    assert c.customs_note == "Customs refused the declaration. lines.0.hs_code: Unknown HS code."
    assert c.customs_clearance == "Declaration refused by customs"
    assert [(e.from_state, e.to_state) for e in history(c) if e.machine == "consignment_customs"] == [
        ("", "declaration_refused")]
    # the carrier has no step after customs: advancing again changes nothing
    services.consignment_advance(consignment=c, expected="customs", actor=SYSTEM_ACTOR)
    c.refresh_from_db()
    assert c.status == "customs"


@pytest.mark.django_db
def test_staff_read_the_customs_status_again_from_the_admin(client, make_user, seller, seller_company, monkeypatch, wh):
    """Customs alone clears a consignment: the admin's action asks customs again, it never sets a status."""
    from types import SimpleNamespace

    from warehouses import customs_link

    c = make_consignment(seller, seller_company, [SkuFactory(company=seller_company)], [5])
    services.consignment_submit(consignment=c, actor=seller)
    for status in ["in_transit", "at_border", "customs"]:
        transition(c, status, actor=SYSTEM_ACTOR)
    monkeypatch.setattr(customs_link, "declaration", lambda reference: SimpleNamespace(id=5, status="green", rejection_reason=""))
    client.force_login(make_user("staff_a", "staff", is_superuser=True))
    response = client.post("/admin/warehouses/consignment/", {"action": "refresh_customs", "_selected_action": [c.pk]},
                           follow=True)
    assert response.status_code == 200, response.status_code
    assert [str(m) for m in response.context["messages"]] == ["read from customs: 1"]
    c.refresh_from_db()
    assert (c.customs_status, c.customs_declaration_id, c.cleared_at) == ("green", 5, None)
