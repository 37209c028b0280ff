"""With a real Celery worker and concurrent buyers on PostgreSQL (committed transactions)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.utils import timezone
from rest_framework.test import APIClient

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.models import TransitionEvent
from orders import selectors
from orders import services as orders
from orders.models import Order
from payments.interface import Owner
from warehouses import services as wh_services
from warehouses.models import Fulfilment, Movement, Reservation

from ..conftest import wait_for
from ..warehouses.conftest import assert_ledger_consistent
from .conftest import available, in_thread, order_body, reserved, wallet

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/orders/"


class Finished:
    """Counts the runs of one task finished by the in-process worker (to know a duplicate ran)."""

    def __init__(self, name):
        self.name, self.count = name, 0

    def __call__(self, sender=None, **kwargs):
        if getattr(sender, "name", None) == self.name:
            self.count += 1

    def __enter__(self):
        task_postrun.connect(self, weak=False)
        return self

    def __exit__(self, *exc):
        task_postrun.disconnect(self)


def test_unpaid_orders_expire_on_the_worker_and_a_duplicate_run_changes_nothing(celery_worker, buyer_cn, honey):
    placed = [orders.order_place(buyer=buyer_cn, storefront="kz", lines=[{"product": honey.pk, "quantity": 3}],
                                 ship_to=order_body("kz", [])["ship_to"]) for _ in range(2)]
    fresh = orders.order_place(buyer=buyer_cn, storefront="kz", lines=[{"product": honey.pk, "quantity": 1}],
                               ship_to=order_body("kz", [])["ship_to"])
    Order.objects.filter(pk__in=[o.pk for o in placed]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert available(honey, "LHW") == 13

    with Finished("marketplace.expire_orders") as finished:
        celery_worker.send_task("marketplace.expire_orders")
        wait_for(lambda: finished.count == 1)
        assert set(Order.objects.values_list("pk", "status")) == {
            (placed[0].pk, "expired"), (placed[1].pk, "expired"), (fresh.pk, "placed")}
        assert available(honey, "LHW") == 19
        events = TransitionEvent.objects.filter(machine="order", to_state="expired").count()
        movements = Movement.objects.count()

        celery_worker.send_task("marketplace.expire_orders")
        celery_worker.send_task("marketplace.expire_orders")
        wait_for(lambda: finished.count == 3)

    assert TransitionEvent.objects.filter(machine="order", to_state="expired").count() == events == 2
    assert Movement.objects.count() == movements
    assert available(honey, "LHW") == 19
    assert set(Reservation.objects.values_list("reference", "status")) == {
        (placed[0].reference, "released"), (placed[1].reference, "released"), (fresh.reference, "active")}
    [event] = selectors.order_events(Order.objects.get(pk=placed[0].pk))[1:]
    assert event["actor"] == "system" and event["note"] == "payment window closed"


def test_the_order_follows_picking_packing_and_shipping_with_tracking(celery_worker, buyer_kz, released_phone, settings):
    settings.MARKETPLACE_TRACKING_AUTOSTART = False  # this test looks at the fulfilment itself, not the road after
    phone = released_phone
    order = orders.order_place(buyer=buyer_kz, storefront="cn-kz", lines=[{"product": phone.pk, "quantity": 1}],
                               ship_to=order_body("cn-kz", [])["ship_to"])
    assert order.road == "domestic"
    orders.order_pay(order=order, actor=buyer_kz)
    fulfilment = Fulfilment.objects.get(reference=order.reference)
    wh_services.fulfilment_pick(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    wait_for(lambda: Order.objects.filter(pk=order.pk, status="picking").exists())
    wh_services.parcel_pack(fulfilment=fulfilment, parcels=[{"weight_g": 420, "length_mm": 200, "width_mm": 120,
                                                            "height_mm": 80}], actor=SYSTEM_ACTOR)
    wait_for(lambda: Order.objects.filter(pk=order.pk, status="packed").exists())

    wh_services.fulfilment_ship(fulfilment=fulfilment, actor=SYSTEM_ACTOR)

    shipped = wait_for(lambda: Order.objects.filter(pk=order.pk, status="shipped").first())
    tracking = list(fulfilment.parcels.values_list("tracking_number", flat=True))
    assert shipped.tracking_numbers == tracking and tracking[0]
    steps = selectors.order_events(shipped)
    assert [(e["status"], e["place"]) for e in steps[2:]] == [("picking", "ALA"), ("packed", "ALA"), ("shipped", "ALA")]
    assert steps[-1]["payload"] == {"warehouse": "ALA", "tracking_numbers": tracking}
    # The callback delivered twice changes nothing more.
    orders.order_fulfilment_changed(reference=order.reference, warehouse="ALA", status="shipped", tracking_numbers=tracking)
    assert TransitionEvent.objects.filter(machine="order", object_id=order.pk, to_state="shipped").count() == 1
    assert reserved(phone) == 0 and available(phone, "ALA") == 9
    # Once shipped the buyer cannot cancel any more.
    with pytest.raises(DomainError) as exc:
        orders.order_cancel(order=shipped, actor=buyer_kz)
    assert getattr(exc.value, "code", None) == "illegal_transition"


def test_a_lost_fulfilment_callback_is_made_up_by_the_next_one(buyer_kz, released_phone):
    order = orders.order_place(buyer=buyer_kz, storefront="cn-kz", lines=[{"product": released_phone.pk, "quantity": 1}],
                               ship_to=order_body("cn-kz", [])["ship_to"])
    orders.order_pay(order=order, actor=buyer_kz)
    orders.order_fulfilment_changed(reference=order.reference, warehouse="ALA", status="packed")
    assert [e["status"] for e in selectors.order_events(Order.objects.get(pk=order.pk))] == [
        "placed", "paid", "picking", "packed"]
    orders.order_fulfilment_changed(reference=order.reference, warehouse="ALA", status="picking")  # late: nothing
    assert Order.objects.get(pk=order.pk).status == "packed"


def test_delivery_pays_the_seller_minus_commission(buyer_kz, cn_seller, released_phone, settings):
    settings.MARKETPLACE_ORDER_COMMISSION_RATE = "0.05"
    order = orders.order_place(buyer=buyer_kz, storefront="cn-kz", lines=[{"product": released_phone.pk, "quantity": 1}],
                               ship_to=order_body("cn-kz", [])["ship_to"])
    orders.order_pay(order=order, actor=buyer_kz)
    orders.order_fulfilment_changed(reference=order.reference, warehouse="ALA", status="shipped", tracking_numbers=["KZ1"])
    orders.order_advance(order=order, to="in_transit", actor=SYSTEM_ACTOR)

    orders.order_deliver(order=order, actor=SYSTEM_ACTOR)

    order.refresh_from_db()
    commission = order.total.times("0.05")
    assert order.status == "delivered" and order.taxes_minor == 0
    assert wallet(Owner.company(cn_seller.company.pk), "KZT").available == order.total - commission
    assert [e["status"] for e in selectors.order_events(order)] == [
        "placed", "paid", "picking", "packed", "shipped", "in_transit", "delivered"]
    assert_ledger_consistent_payments()


def assert_ledger_consistent_payments():
    from ..payments.helpers import assert_ledger_consistent as check

    check()


def test_40_buyers_on_10_units_get_exactly_10_orders(make_user, honey, reference):
    from marketplace.models import Listing

    # 10 units left in Lanzhou, one jar per buyer.
    wh_services.stock_adjust(warehouse="LHW", sku_id=honey.sku_id, bond_status="bonded", quantity=-10, reason="damaged",
                             actor=SYSTEM_ACTOR)
    assert available(honey, "LHW") == 10 and Listing.objects.get(product=honey).is_visible
    buyers = [make_user(f"rush_{i}", "buyer") for i in range(40)]

    @in_thread
    def checkout(user):
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(URL, order_body("kz", [(honey, 1)]), format="json")
        return response.status_code, response.json().get("error", {}).get("code")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(checkout, buyers))

    assert sum(1 for status, _ in results if status == 201) == 10, results
    assert {(status, code) for status, code in results if status != 201} <= {(409, "insufficient_stock"), (409, "conflict")}
    assert Order.objects.count() == 10
    assert available(honey, "LHW") == 0 and reserved(honey) == 10
    assert Reservation.objects.filter(status="active").count() == 10
    assert_ledger_consistent()


def test_buyers_of_the_same_two_phones_in_opposite_line_orders_neither_deadlock_nor_oversell(make_user, phones, reference):
    """Each order reserves where its preview said, on levels locked in one order whatever the
    order of its lines: twenty buyers of both phones, half listing them the other way round, on
    ten units of each, get exactly ten orders and no deadlock."""
    first, second = phones[:2]
    buyers = [make_user(f"pair_{i}", "buyer") for i in range(20)]

    @in_thread
    def checkout(i):
        lines = [{"product": p.pk, "quantity": 1} for p in ((first, second) if i % 2 else (second, first))]
        try:
            orders.order_place(buyer=buyers[i], storefront="cn-kz", lines=lines, ship_to=order_body("cn-kz", [])["ship_to"])
        except DomainError as exc:
            return exc.code
        return "placed"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(checkout, range(len(buyers))))

    assert results.count("placed") == 10, results
    assert set(results) <= {"placed", "insufficient_stock", "conflict"}
    assert Order.objects.count() == 10 and Reservation.objects.filter(status="active").count() == 10
    assert [available(p, "ALA") for p in (first, second)] == [0, 0] and reserved(first) == reserved(second) == 10
    assert_ledger_consistent()
