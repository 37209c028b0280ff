"""Order to door through customs, on the default settings, with a real Celery worker.

Each journey ends with balanced ledgers and stock levels that equal the stock ledger:

* sold from bond, green: a KZ buyer's phone from the Almaty bond (IIN, EAEU e-commerce duties);
* sold from bond, yellow: a CN buyer's cosmetics from the Lanzhou bond (CBEC 1210), released by a broker;
* sold from bond, red: jewellery inspected and rejected, the buyer refunded to the last fen;
* across a border: honey shipped from Khorgos to Urumqi, cleared at the Khorgos–Altynkol crossing.
"""

from datetime import date

import pytest

from core.access import SYSTEM_ACTOR
from core.money import Money
from core.states import history
from customs import services as customs
from customs.models import Declaration, DeclarationDocument, TariffLine
from orders import services as orders
from orders.models import Order
from payments.interface import Owner
from warehouses import services as wh
from warehouses.models import Fulfilment, StockLevel, Warehouse

from ..conftest import wait_for
from ..payments.helpers import assert_ledger_consistent as assert_money_consistent
from ..payments.helpers import platform_minor
from ..warehouses.conftest import assert_ledger_consistent as assert_stock_consistent
from .conftest import CN_ADDRESS, KZ_ADDRESS, book, make_product, wallet

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery]


def status_of(order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


def reach(order, status, timeout=30):
    wait_for(lambda: status_of(order) == status, timeout=timeout)


def levels(product, warehouse) -> dict[str, tuple[int, int]]:
    return {lv.bond_status: (lv.on_hand, lv.reserved)
            for lv in StockLevel.objects.filter(sku_id=product.sku_id, warehouse_id=warehouse)}


def operate(make_user, code):
    user = make_user(f"operator_{code.lower()}", "operator")
    Warehouse.objects.get(code=code).operators.add(user)
    return user


def fulfil(order, operator):
    """The operator picks, packs and ships the order's units from its warehouse, by hand."""
    wait_for(lambda: Fulfilment.objects.filter(reference=order.reference).exists())
    fulfilment = Fulfilment.objects.get(reference=order.reference)
    wh.fulfilment_pick(fulfilment=fulfilment, actor=operator)
    reach(order, "picking")
    wh.parcel_pack(fulfilment=Fulfilment.objects.get(pk=fulfilment.pk), actor=operator,
                   parcels=[{"weight_g": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}])
    reach(order, "packed")
    wh.fulfilment_ship(fulfilment=Fulfilment.objects.get(pk=fulfilment.pk), actor=operator)


def timeline(order) -> list[tuple[str, str]]:
    return [(e.to_state, e.place) for e in history(order)]


def test_kz_buyer_from_the_almaty_bond_through_a_green_channel(celery_worker, make_user, cn_seller, buyer_kz, api_as):
    phone = make_product(cn_seller.company, storefront="cn-kz", price="95000.00", title="Smartphone X1",
                         hs_code="851713", category="phones", weight=350)
    book("ALA", phone, 10)
    operator = operate(make_user, "ALA")
    before = wallet(buyer_kz, "KZT").available

    order = orders.order_place(buyer=buyer_kz, storefront="cn-kz", lines=[{"product": phone.pk, "quantity": 2}],
                               ship_to=KZ_ADDRESS)
    assert order.road == "bond" and order.regime == "eaeu_ecommerce"
    assert order.taxes_minor > 0  # 190,000 KZT is over 200 EUR: 5 % duty plus 16 % VAT
    assert order.ship_to_id_masked.endswith(KZ_ADDRESS["id_number"][-4:]) and "*" in order.ship_to_id_masked
    orders.order_pay(order=order, actor=buyer_kz)

    reach(order, "cleared")
    declaration = Declaration.objects.get(reference=order.reference)
    assert (declaration.kind, declaration.channel, declaration.status) == ("parcel", "green", "released")
    assert declaration.regime == "eaeu_ecommerce" and declaration.recipient_id_masked == order.ship_to_id_masked
    assert KZ_ADDRESS["id_number"] not in declaration.recipient_id_encrypted
    # The units left bond on release, still reserved for the order; nothing was picked yet.
    assert levels(phone, "ALA") == {"bonded": (8, 0), "released": (2, 2)}

    fulfil(order, operator)
    reach(order, "delivered")

    assert [s for s, _p in timeline(order)] == ["placed", "paid", "at_customs", "cleared", "picking", "packed",
                                                  "shipped", "in_transit", "delivered"]
    places = dict(timeline(order))
    assert places["at_customs"] == places["cleared"] == places["picking"] == "ALA"
    assert places["delivered"] == "Almaty"
    assert levels(phone, "ALA") == {"bonded": (8, 0), "released": (0, 0)}
    # The buyer paid the total once; the duties went to customs, the rest to the seller minus 5 %.
    assert wallet(buyer_kz, "KZT").available == before - order.total
    assert platform_minor("customs_duty", "KZT") == order.taxes_minor
    paid_out = order.total_minor - order.taxes_minor
    commission = Money(paid_out, "KZT").times("0.05").minor
    assert wallet(Owner.company(cn_seller.company.pk), "KZT").available.minor == paid_out - commission
    assert platform_minor("escrow", "KZT") == 0
    assert_money_consistent()
    assert_stock_consistent()
    # The buyer reads the same through the API: the road, the customs decision, the masked IIN.
    body = api_as(buyer_kz).get(f"/api/v1/orders/{order.pk}/").json()
    assert body["road"] == "bond" and body["status"] == "delivered"
    assert body["customs"]["channel"] == "green" and body["customs"]["status"] == "released"
    assert body["customs"]["duties"] == {"amount": str(order.taxes.amount), "currency": "KZT"}
    assert [e["status"] for e in body["customs"]["events"]][-1] == "released"
    assert body["ship_to"]["id_number"] == order.ship_to_id_masked and KZ_ADDRESS["id_number"] not in str(body)


@pytest.fixture
def cosmetics(kz_seller):
    product = make_product(kz_seller.company, storefront="kz", price="120.00", title="Camel milk face cream",
                           hs_code="330499", category="honey", weight=200)
    book("LHW", product, 6)
    return product


def test_cn_buyer_from_the_lanzhou_bond_through_a_yellow_channel_released_by_the_broker(
        celery_worker, make_user, cosmetics, buyer_cn):
    broker = make_user("broker", "broker")
    operator = operate(make_user, "LHW")
    before = wallet(buyer_cn, "CNY").available
    order = orders.order_place(buyer=buyer_cn, storefront="kz", lines=[{"product": cosmetics.pk, "quantity": 1}],
                               ship_to=CN_ADDRESS)
    assert order.road == "bond" and order.regime == "cn_cbec_1210"
    orders.order_pay(order=order, actor=buyer_cn)

    wait_for(lambda: Declaration.objects.filter(reference=order.reference, status="yellow").exists())
    declaration = Declaration.objects.get(reference=order.reference)
    assert status_of(order) == "at_customs"
    # The seller's invoice went with the declaration: the broker has it in the queue.
    [invoice] = DeclarationDocument.objects.filter(declaration=declaration)
    assert invoice.kind == "invoice" and invoice.content_type == "application/pdf"
    assert invoice.file.read().startswith(b"%PDF-")
    assert not Fulfilment.objects.filter(reference=order.reference).exists()  # nothing is picked before release

    customs.declaration_act(declaration_id=declaration.pk, action="assess", actor=broker)
    reach(order, "cleared")
    assert levels(cosmetics, "LHW") == {"bonded": (5, 0), "released": (1, 1)}
    fulfil(order, operator)
    reach(order, "delivered")

    assert wallet(buyer_cn, "CNY").available == before - order.total
    assert platform_minor("customs_duty", "CNY") == order.taxes_minor > 0  # CBEC: 70 % of VAT
    assert_money_consistent()
    assert_stock_consistent()


@pytest.fixture
def bracelet(kz_seller, staff):
    TariffLine.objects.create(hs_code="711319", country="CN", description="Jewellery of precious metal",
                              duty_percent="0", vat_percent="13", effective_from=date(2020, 1, 1),
                              source="test tariff", entered_by=staff)
    product = make_product(kz_seller.company, storefront="kz", price="900.00", title="Silver bracelet",
                           hs_code="711319", category="honey", weight=80)
    book("LHW", product, 3)
    return product


def test_a_red_channel_rejected_refunds_the_buyer_exactly_and_puts_the_units_back(
        celery_worker, make_user, bracelet, buyer_cn, settings):
    settings.CUSTOMS_SIMULATOR = {**settings.CUSTOMS_SIMULATOR, "red_hs_chapters": ["71"]}
    broker = make_user("broker", "broker")
    before = wallet(buyer_cn, "CNY").available
    order = orders.order_place(buyer=buyer_cn, storefront="kz", lines=[{"product": bracelet.pk, "quantity": 2}],
                               ship_to=CN_ADDRESS)
    orders.order_pay(order=order, actor=buyer_cn)
    assert wallet(buyer_cn, "CNY").available == before - order.total

    wait_for(lambda: Declaration.objects.filter(reference=order.reference, status="red").exists())
    declaration = Declaration.objects.get(reference=order.reference)
    customs.declaration_act(declaration_id=declaration.pk, action="reject", actor=broker,
                            reason="Hallmark does not match the declared metal")
    reach(order, "returned")

    steps = [(e.to_state, e.reason) for e in history(order)]
    assert ("customs_rejected", "Hallmark does not match the declared metal") in steps
    assert wallet(buyer_cn, "CNY").available == before  # goods, shipping and duties all back
    assert levels(bracelet, "LHW") == {"bonded": (3, 0)}  # never left bond, free to sell again
    assert platform_minor("escrow", "CNY") == platform_minor("customs_duty", "CNY") == 0
    assert_money_consistent()
    assert_stock_consistent()


def test_across_a_border_the_parcel_clears_at_the_crossing_after_shipping(celery_worker, make_user, kz_seller, buyer_cn):
    honey = make_product(kz_seller.company, storefront="kz", price="88.00", title="Mountain honey", hs_code="040900",
                         category="honey", weight=500)
    wh.stock_receive(warehouse="KHG", sku_id=honey.sku_id, quantity=12, bond_status="released", reference="seed",
                     actor=SYSTEM_ACTOR)
    operator = operate(make_user, "KHG")
    before = wallet(buyer_cn, "CNY").available
    order = orders.order_place(buyer=buyer_cn, storefront="kz", lines=[{"product": honey.pk, "quantity": 3}],
                               ship_to=CN_ADDRESS)
    assert (order.road, order.source_warehouse, order.regime) == ("border", "KHG", "cn_cbec_9610")
    orders.order_pay(order=order, actor=buyer_cn)
    assert not Declaration.objects.filter(reference=order.reference).exists()  # declared at the crossing

    fulfil(order, operator)
    reach(order, "delivered")

    assert [s for s, _p in timeline(order)] == ["placed", "paid", "picking", "packed", "shipped", "in_transit",
                                                  "at_customs", "cleared", "delivered"]
    places = dict(timeline(order))
    assert places["picking"] == places["shipped"] == "KHG"
    assert places["at_customs"] == places["cleared"] == "BC-KHORGOS-ALTYNKOL"
    assert Declaration.objects.get(reference=order.reference).status == "released"
    assert levels(honey, "KHG") == {"released": (9, 0)}
    assert wallet(buyer_cn, "CNY").available == before - order.total
    assert platform_minor("customs_duty", "CNY") == order.taxes_minor
    assert_money_consistent()
    assert_stock_consistent()


def test_an_assessment_above_the_quote_is_paid_by_the_platform_not_the_buyer(buyer_cn, honey):
    """Landed-cost guarantee: customs assessed 10 CNY more than the quote."""
    from payments import services as payments

    order = orders.order_place(buyer=buyer_cn, storefront="kz", lines=[{"product": honey.pk, "quantity": 1}],
                               ship_to=CN_ADDRESS)
    orders.order_pay(order=order, actor=buyer_cn)
    before = wallet(buyer_cn, "CNY").available
    payments.escrow_pay_duty(reference=order.reference, assessed=order.taxes + Money.of("10.00", "CNY"),
                             prepaid=order.taxes, actor=SYSTEM_ACTOR)
    assert platform_minor("landed_cost_guarantee", "CNY") == -1000
    assert platform_minor("customs_duty", "CNY") == order.taxes_minor + 1000
    assert wallet(buyer_cn, "CNY").available == before
    assert_money_consistent()
