"""Returns after delivery, through the API, with a real Celery worker refunding.

Each case ends with balanced ledgers and stock levels equal to the stock ledger."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.access import SYSTEM_ACTOR
from core.money import Money
from customs.models import AllowanceUse
from orders import services as orders
from orders.models import Order, Return
from payments import services as payments
from payments.interface import Owner
from payments.models import SellerDebt
from warehouses import services as wh
from warehouses.models import Fulfilment, Movement, StockLevel, Warehouse

from ..conftest import wait_for
from ..payments.helpers import assert_ledger_consistent as assert_money_consistent
from ..payments.helpers import platform_minor
from ..warehouses.conftest import assert_ledger_consistent as assert_stock_consistent
from .conftest import order_body, wallet

pytestmark = [pytest.mark.django_db(transaction=True)]

URL = "/api/v1/orders/"


def levels(product, warehouse) -> dict[str, tuple[int, int]]:
    return {lv.bond_status: (lv.on_hand, lv.reserved)
            for lv in StockLevel.objects.filter(sku_id=product.sku_id, warehouse_id=warehouse)}


@pytest.fixture
def operator_ala(make_user):
    user = make_user("operator_ala", "operator")
    Warehouse.objects.get(code="ALA").operators.add(user)
    return user


def delivered(buyer, product, storefront="cn-kz", quantity=2):
    """An order of ``quantity`` units taken to the door without a worker (domestic road)."""
    order = orders.order_place(buyer=buyer, storefront=storefront, lines=[{"product": product.pk, "quantity": quantity}],
                               ship_to=order_body(storefront, [])["ship_to"])
    orders.order_pay(order=order, actor=buyer)
    fulfilment = Fulfilment.objects.get(reference=order.reference)
    wh.fulfilment_pick(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    wh.parcel_pack(fulfilment=fulfilment, parcels=[{"weight_g": 800, "length_mm": 200, "width_mm": 120, "height_mm": 80}],
                   actor=SYSTEM_ACTOR)
    wh.fulfilment_ship(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    orders.order_fulfilment_changed(reference=order.reference, warehouse=order.source_warehouse, status="shipped")
    orders.order_advance(order=order, to="in_transit", actor=SYSTEM_ACTOR)
    orders.order_deliver(order=order, actor=SYSTEM_ACTOR)
    return Order.objects.get(pk=order.pk)


def ask(api_as, buyer, order, quantity, reason="defective", line=None):
    line = line or order.lines.get()
    return api_as(buyer).post(f"{URL}{order.pk}/returns/", {"lines": [{"line": line.pk, "quantity": quantity}],
                                                             "reason": reason, "comment": "Screen flickers"}, format="json")


def walk_back(client_buyer, client_seller, client_operator, return_id, received):
    """Seller approves, buyer ships back, operator receives: the refund follows on the worker."""
    assert client_seller.post(f"/api/v1/returns/{return_id}/approve/", format="json").status_code == 200
    shipped = client_buyer.post(f"/api/v1/returns/{return_id}/ship/", {"tracking_number": "KZRET001"}, format="json")
    assert shipped.status_code == 200, shipped.json()
    got = client_operator.post(f"/api/v1/returns/{return_id}/receive/", {"lines": received}, format="json")
    assert got.status_code == 200, got.json()
    wait_for(lambda: Return.objects.get(pk=return_id).status == "refunded")
    return client_buyer.get(f"/api/v1/returns/{return_id}/").json()


def clients(make_api, *users):
    from rest_framework.test import APIClient

    out = []
    for user in users:
        client = APIClient()
        client.force_authenticate(user)
        out.append(client)
    return out


def test_a_defective_return_after_delivery_is_refunded_in_full_with_the_commission_reversed(
        celery_worker, api_as, buyer_kz, cn_seller, operator_ala, released_phone, settings):
    settings.MARKETPLACE_ORDER_COMMISSION_RATE = "0.05"
    order = delivered(buyer_kz, released_phone, quantity=2)
    seller = Owner.company(cn_seller.company.pk)
    seller_before, buyer_before = wallet(seller, "KZT").available, wallet(buyer_kz, "KZT").available
    commission_before = platform_minor("commission", "KZT")

    response = ask(api_as, buyer_kz, order, 1)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "requested" and body["reason"] == "defective"
    shipping_share = order.shipping_minor // 2  # one of two identical units
    expected = 9_500_000 + shipping_share
    assert body["refund_estimate"] == Money(expected, "KZT").to_api()
    buyer, seller_client, operator = clients(None, buyer_kz, cn_seller, operator_ala)
    line = order.lines.get()
    final = walk_back(buyer, seller_client, operator, body["id"],
                      [{"line": line.pk, "quantity": 1, "condition": "restock"}])

    assert final["status"] == "refunded" and final["refund"] == Money(expected, "KZT").to_api()
    assert [e["status"] for e in final["events"]] == ["requested", "approved", "in_transit", "received", "refunded"]
    assert wallet(buyer_kz, "KZT").available == buyer_before + Money(expected, "KZT")
    commission = Money(expected, "KZT").times("0.05")
    return_shipping = Return.objects.get(pk=body["id"]).return_shipping_minor  # the seller's fault: the seller pays it
    assert wallet(seller, "KZT").available == seller_before - Money(expected - commission.minor + return_shipping, "KZT")
    assert platform_minor("commission", "KZT") == commission_before - commission.minor
    assert levels(released_phone, "ALA") == {"released": (9, 0)}  # 10 - 2 shipped + 1 back
    assert_money_consistent()
    assert_stock_consistent()


def test_a_change_of_mind_pays_the_return_shipping_and_gets_no_shipping_back(
        celery_worker, api_as, buyer_kz, cn_seller, operator_ala, released_phone):
    order = delivered(buyer_kz, released_phone, quantity=1)
    buyer_before = wallet(buyer_kz, "KZT").available

    body = ask(api_as, buyer_kz, order, 1, reason="changed_mind").json()
    ret = Return.objects.get(pk=body["id"])
    assert ret.shipping_share_minor == 0 and ret.return_shipping_minor > 0
    assert body["refund_estimate"] == Money(9_500_000 - ret.return_shipping_minor, "KZT").to_api()
    buyer, seller_client, operator = clients(None, buyer_kz, cn_seller, operator_ala)
    walk_back(buyer, seller_client, operator, body["id"],
              [{"line": order.lines.get().pk, "quantity": 1, "condition": "damaged"}])

    assert wallet(buyer_kz, "KZT").available == buyer_before + Money(9_500_000 - ret.return_shipping_minor, "KZT")
    # Damaged: booked back and written off, with both movements in the ledger.
    assert levels(released_phone, "ALA") == {"released": (9, 0)}
    kinds = list(Movement.objects.filter(reference=ret.reference).order_by("id").values_list("kind", "on_hand_delta"))
    assert kinds == [("return", 1), ("adjust", -1)]
    assert_money_consistent()
    assert_stock_consistent()


def test_an_empty_seller_wallet_leaves_a_debt_that_the_next_payout_settles_first(
        celery_worker, api_as, buyer_kz, cn_seller, operator_ala, released_phone):
    order = delivered(buyer_kz, released_phone, quantity=1)
    seller = Owner.company(cn_seller.company.pk)
    # The seller has already taken its money out.
    payments.payout_request(owner=seller, amount=wallet(seller, "KZT").available, actor=cn_seller)
    assert wallet(seller, "KZT").available.minor == 0
    buyer_before = wallet(buyer_kz, "KZT").available

    body = ask(api_as, buyer_kz, order, 1).json()
    buyer, seller_client, operator = clients(None, buyer_kz, cn_seller, operator_ala)
    walk_back(buyer, seller_client, operator, body["id"], [{"line": order.lines.get().pk, "quantity": 1,
                                                            "condition": "restock"}])

    assert wallet(buyer_kz, "KZT").available == buyer_before + Money.from_api(body["refund_estimate"])
    [debt] = SellerDebt.objects.all()
    assert debt.open_minor > 0 and platform_minor("seller_receivables", "KZT") == -debt.open_minor
    # The seller sells again; its next payout first settles the debt.
    wh_sale = wallet(seller, "KZT").available
    assert wh_sale.minor == 0
    payments.wallet_top_up(owner=seller, amount=Money.of("200000.00", "KZT"), provider="simulator",
                           provider_event_id="seller-income", actor=SYSTEM_ACTOR)
    payments.payout_request(owner=seller, amount=Money.of("1000.00", "KZT"), actor=cn_seller)
    debt.refresh_from_db()
    assert debt.open_minor == 0 and platform_minor("seller_receivables", "KZT") == 0
    assert wallet(seller, "KZT").available == Money.of("200000.00", "KZT") - Money(debt.amount_minor, "KZT") - Money.of("1000.00", "KZT")
    assert_money_consistent()


@pytest.mark.celery
def test_a_cbec_return_gets_the_tax_back_and_restores_the_yearly_allowance(
        celery_worker, api_as, make_user, buyer_cn, kz_seller, honey):
    lhw = make_user("operator_lhw", "operator")
    Warehouse.objects.get(code="LHW").operators.add(lhw)
    order = orders.order_place(buyer=buyer_cn, storefront="kz", lines=[{"product": honey.pk, "quantity": 2}],
                               ship_to=order_body("kz", [])["ship_to"])
    orders.order_pay(order=order, actor=buyer_cn)
    wait_for(lambda: Order.objects.get(pk=order.pk).status == "cleared", timeout=30)
    fulfilment = wait_for(lambda: Fulfilment.objects.filter(reference=order.reference).first())
    wh.fulfilment_pick(fulfilment=fulfilment, actor=lhw)
    wh.parcel_pack(fulfilment=Fulfilment.objects.get(pk=fulfilment.pk), actor=lhw,
                   parcels=[{"weight_g": 1200, "length_mm": 200, "width_mm": 120, "height_mm": 80}])
    wh.fulfilment_ship(fulfilment=Fulfilment.objects.get(pk=fulfilment.pk), actor=lhw)
    wait_for(lambda: Order.objects.get(pk=order.pk).status == "delivered", timeout=30)
    order = Order.objects.get(pk=order.pk)
    assert order.taxes_minor > 0 and order.regime == "cn_cbec_1210"
    used_before = AllowanceUse.objects.get(reference=order.reference).amount_minor
    duty_before = platform_minor("customs_duty", "CNY")
    buyer_before = wallet(buyer_cn, "CNY").available

    body = ask(api_as, buyer_cn, order, 1).json()
    ret = Return.objects.get(pk=body["id"])
    assert ret.taxes_minor == order.taxes_minor // 2 or ret.taxes_minor == (order.taxes_minor + 1) // 2
    buyer, seller_client, operator = clients(None, buyer_cn, kz_seller, lhw)
    walk_back(buyer, seller_client, operator, body["id"], [{"line": order.lines.get().pk, "quantity": 1,
                                                            "condition": "restock"}])

    assert wallet(buyer_cn, "CNY").available == buyer_before + Money(ret.estimate_minor, "CNY")
    assert platform_minor("customs_duty", "CNY") == duty_before - ret.taxes_minor
    assert AllowanceUse.objects.get(reference=order.reference).amount_minor < used_before
    # Customs refunded the tax: the unit goes back under bond.
    assert levels(honey, "LHW")["bonded"] == (19, 0)
    assert_money_consistent()
    assert_stock_consistent()


def test_refusals_window_quantity_and_other_buyers(api_as, buyer_kz, make_user, cn_seller, released_phone):
    order = delivered(buyer_kz, released_phone, quantity=2)
    before = Return.objects.count()

    too_many = ask(api_as, buyer_kz, order, 3)
    assert too_many.status_code == 400
    assert too_many.json()["error"]["fields"].keys() == {"lines.0.quantity"}

    stranger = make_user("buyer_x", "buyer")
    assert ask(api_as, stranger, order, 1).status_code == 404

    Order.objects.filter(pk=order.pk).update(closed_at=timezone.now() - timedelta(days=15))  # KZ: 14 days to change one's mind
    late = ask(api_as, buyer_kz, order, 1, reason="changed_mind")
    assert late.status_code == 409 and late.json()["error"]["code"] == "return_window_closed"
    assert ask(api_as, buyer_kz, order, 1, reason="defective").status_code == 201  # 30 days for a fault
    assert Return.objects.count() == before + 1

    # The seller cannot ship it back, the buyer cannot approve it.
    ret = Return.objects.get()
    assert api_as(buyer_kz).post(f"/api/v1/returns/{ret.pk}/approve/", format="json").status_code in (403, 404)
    assert Return.objects.get().status == "requested"


def test_an_unanswered_return_is_approved_by_the_system_after_three_days(buyer_kz, released_phone):
    from orders import returns

    order = delivered(buyer_kz, released_phone, quantity=1)
    ret = returns.return_request(order=order, lines=[{"line": order.lines.get().pk, "quantity": 1}], reason="wrong_item",
                                 actor=buyer_kz)
    assert returns.returns_auto_approve() == 0
    Return.objects.filter(pk=ret.pk).update(created_at=timezone.now() - timedelta(days=3, minutes=1))
    assert returns.returns_auto_approve() == 1
    assert Return.objects.get(pk=ret.pk).status == "approved"
    assert returns.returns_auto_approve() == 0
