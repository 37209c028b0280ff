"""Inbound consignments: the journey through the transit simulator, receipt and discrepancies."""

import pytest
from django.test import override_settings

from core.errors import DomainError
from core.states import history
from tests.conftest import wait_for
from warehouses import services
from warehouses.models import Consignment, Discrepancy, Movement, StockLevel

from .conftest import SkuFactory, assert_ledger_consistent

NO_DELAYS = {"submitted": 0, "in_transit": 0, "at_border": 0, "customs": 0}


def make_consignment(seller, company, skus, quantities, warehouse="TAS"):
    return services.consignment_create(
        company_id=company.pk, warehouse=warehouse, origin="URC", border_crossing="BC-IRKESHTAM",
        lines=list(zip([s.pk for s in skus], quantities, strict=True)), note="first shipment", actor=seller,
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


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
@override_settings(WAREHOUSES_TRANSIT_DELAYS=NO_DELAYS, WAREHOUSES_CUSTOMS="simulated")
def test_journey_to_bonded_stock_with_a_discrepancy_the_seller_sees(celery_worker, seller, seller_company, operator_tas,
                                                                   operator_ala, wh):
    phones, cases = SkuFactory(company=seller_company), SkuFactory(company=seller_company)
    c = make_consignment(seller, seller_company, [phones, cases], [100, 40])
    services.consignment_submit(consignment=c, actor=seller)

    def cleared():
        c.refresh_from_db()
        return c.status == "customs" and c.cleared_at is not None

    wait_for(cleared)
    assert [(e.from_state, e.to_state, e.actor_label) for e in history(c)] == [
        ("draft", "submitted", "seller_cn"), ("submitted", "in_transit", "system"),
        ("in_transit", "at_border", "system"), ("at_border", "customs", "system"),
    ]
    assert [e.place for e in history(c)][1:] == ["URC", "BC-IRKESHTAM", "TAS"]

    lines = {ln.sku_id: ln.pk for ln in c.lines.all()}
    with pytest.raises(DomainError):  # another warehouse's operator does not see it
        services.consignment_receive(consignment=c, counts={}, actor=operator_ala)
    services.consignment_receive(consignment=c, counts={lines[phones.pk]: 97, lines[cases.pk]: 40},
                                 notes={lines[phones.pk]: "3 boxes crushed"}, actor=operator_tas)
    c.refresh_from_db()
    assert c.status == "received"
    assert StockLevel.objects.get(warehouse_id="TAS", sku=phones, bond_status="bonded").on_hand == 97
    assert StockLevel.objects.get(warehouse_id="TAS", sku=cases, bond_status="bonded").on_hand == 40
    discrepancy = Discrepancy.objects.get()
    assert (discrepancy.sku_id, discrepancy.kind, discrepancy.difference, discrepancy.note) == (
        phones.pk, "shortage", -3, "3 boxes crushed")
    assert Movement.objects.filter(kind="discrepancy", quantity=-3, reference=c.number).exists()
    from core.access import visible

    assert list(visible(seller, Discrepancy.objects.all())) == [discrepancy]
    assert_ledger_consistent()


@pytest.mark.django_db
def test_receipt_waits_for_customs_and_needs_every_count(seller, seller_company, operator_tas, wh):
    from core.access import SYSTEM_ACTOR
    from core.states import transition

    c = make_consignment(seller, seller_company, [SkuFactory(company=seller_company)], [5])
    services.consignment_submit(consignment=c, actor=seller)
    for status in ["in_transit", "at_border", "customs"]:
        transition(c, status, actor=SYSTEM_ACTOR)
    line = c.lines.get()
    with pytest.raises(DomainError) as err:
        services.consignment_receive(consignment=c, counts={line.pk: 5}, actor=operator_tas)
    assert err.value.code == "customs_not_cleared"
    services.consignment_customs_changed(reference=c.number, status="released")
    with pytest.raises(DomainError) as err:
        services.consignment_receive(consignment=c, counts={}, actor=operator_tas)
    assert "lines.0.counted" in err.value.fields
    services.consignment_receive(consignment=c, counts={line.pk: 5}, actor=operator_tas)
    assert not Discrepancy.objects.exists()
