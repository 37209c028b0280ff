"""The parcel pipeline: after shipment Celery moves the order along its road (sold from bond:
shipped → in_transit → delivered; across a border: shipped → in_transit → at_customs, and
cleared → delivered)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.access import SYSTEM_ACTOR
from core.models import TransitionEvent
from orders import selectors, tasks, tracking
from orders import services as orders
from orders.models import Order
from payments.interface import Owner
from payments.models import Account
from warehouses import services as wh_services
from warehouses.models import Fulfilment

from ..conftest import wait_for
from .conftest import CN_ADDRESS, wallet

PIPELINE = ["placed", "paid", "at_customs", "cleared", "picking", "packed", "shipped", "in_transit", "delivered"]


def paid_honey_order(buyer, honey, quantity=1):
    order = orders.order_place(buyer=buyer, storefront="kz", lines=[{"product": honey.pk, "quantity": quantity}],
                               ship_to=dict(CN_ADDRESS))
    orders.order_pay(order=order, actor=buyer)
    return order


def ship_through_warehouse(order):
    fulfilment = Fulfilment.objects.get(reference=order.reference)
    wh_services.fulfilment_pick(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    wh_services.parcel_pack(fulfilment=fulfilment, parcels=[{"weight_g": 600, "length_mm": 200, "width_mm": 120,
                                                            "height_mm": 80}], actor=SYSTEM_ACTOR)
    wh_services.fulfilment_ship(fulfilment=fulfilment, actor=SYSTEM_ACTOR)


def cleared_order(buyer, honey):
    """A paid honey order sold from the Lanzhou bond, declared and released by customs (no worker:
    the callbacks are called as the tasks would)."""
    order = paid_honey_order(buyer, honey)
    assert orders.order_declare(order_id=order.pk)
    orders.order_customs_changed(reference=order.reference, status="released")
    order.refresh_from_db()
    assert order.status == "cleared"
    return order


def shipped_order(buyer, honey):
    """A cleared order the warehouse reported shipped (no worker: its pipeline countdown is 'lost')."""
    order = cleared_order(buyer, honey)
    orders.order_fulfilment_changed(reference=order.reference, warehouse="LHW", status="shipped", tracking_numbers=["CN1"])
    order.refresh_from_db()
    assert order.status == "shipped"
    return order


def events(order, to_state=None):
    qs = TransitionEvent.objects.filter(machine="order", object_id=order.pk)
    return qs.filter(to_state=to_state) if to_state else qs


@pytest.mark.django_db(transaction=True)
def test_a_shipped_order_is_delivered_by_the_worker_and_the_seller_is_paid(celery_worker, settings, buyer_cn,
                                                                            kz_seller, honey):
    settings.MARKETPLACE_TRACKING_AUTOSTART = True
    settings.MARKETPLACE_ORDER_COMMISSION_RATE = "0.05"
    assert all(delay == 0 for delay in settings.MARKETPLACE_TRACKING_DELAYS.values())
    order = paid_honey_order(buyer_cn, honey, quantity=2)
    wait_for(lambda: Order.objects.filter(pk=order.pk, status="cleared").exists())  # the worker declared, customs released

    ship_through_warehouse(order)

    delivered = wait_for(lambda: Order.objects.filter(pk=order.pk, status="delivered").first())
    paid_out = delivered.total - delivered.taxes  # the duties went to customs
    commission = paid_out.times("0.05")
    assert wallet(Owner.company(kz_seller.company.pk), "CNY").available == paid_out - commission
    account = Account.objects.get(owner_kind="platform", kind="commission", currency_id="CNY")
    assert account.balance_minor == commission.minor > 0
    assert wallet(buyer_cn, "CNY").held.minor == 0
    timeline = selectors.order_events(delivered)
    assert [e["status"] for e in timeline] == PIPELINE
    assert [(e["status"], e["place"], e["actor"]) for e in timeline[2:]] == [
        ("at_customs", "LHW", "system"), ("cleared", "LHW", "system"), ("picking", "LHW", "system"),
        ("packed", "LHW", "system"), ("shipped", "LHW", "system"), ("in_transit", "LHW", "system"),
        ("delivered", "Urumqi", "system")]
    assert timeline[-1]["payload"]["commission"] == commission.to_api()


@pytest.mark.django_db
def test_a_step_task_run_twice_adds_no_event(buyer_cn, honey):
    order = shipped_order(buyer_cn, honey)

    assert tasks.parcels_step.apply(args=([order.pk], "shipped")).get() == 1
    assert tasks.parcels_step.apply(args=([order.pk], "shipped")).get() == 0

    order.refresh_from_db()
    assert order.status == "in_transit"
    assert events(order, "in_transit").count() == 1
    # A stale step for a status the order has left changes nothing either.
    for status in ("in_transit", "cleared"):
        tasks.parcels_step.apply(args=([order.pk], status)).get()
        tasks.parcels_step.apply(args=([order.pk], status)).get()
    order.refresh_from_db()
    assert order.status == "delivered"
    assert [e["status"] for e in selectors.order_events(order)] == PIPELINE
    assert events(order, "delivered").get().place == "Urumqi"


@pytest.mark.django_db
def test_the_pipeline_takes_no_step_of_another_road(buyer_cn, honey):
    """cleared → delivered is the border road's timer; sold from bond, cleared waits for the warehouse."""
    order = cleared_order(buyer_cn, honey)
    assert order.road == "bond"

    assert tracking.parcels_step(order_ids=[order.pk], from_status="cleared") == {}
    order.refresh_from_db()
    assert order.status == "cleared" and not events(order, "delivered").exists()


@pytest.mark.django_db
def test_the_sweep_advances_an_order_whose_countdown_was_lost(settings, buyer_cn, honey):
    settings.MARKETPLACE_TRACKING_SWEEP_MARGIN = 300
    lost = shipped_order(buyer_cn, honey)
    fresh = shipped_order(buyer_cn, honey)
    events(lost, "shipped").update(at=timezone.now() - timedelta(seconds=301))

    assert tracking.parcels_stuck(status="shipped", limit=500) == [lost.pk]
    assert tasks.parcels_sweep.apply().get() == 1

    assert dict(Order.objects.filter(pk__in=[lost.pk, fresh.pk]).values_list("pk", "status")) == {
        lost.pk: "in_transit", fresh.pk: "shipped"}
    assert events(lost, "in_transit").get().place == "LHW"
    # Just moved: not stuck in in_transit, and a second sweep changes nothing.
    assert tasks.parcels_sweep.apply().get() == 0


@pytest.mark.django_db
def test_200_orders_move_in_one_call_with_constant_queries(buyer_cn, honey, django_assert_max_num_queries):
    order = shipped_order(buyer_cn, honey)
    template = Order.objects.get(pk=order.pk)
    clones = []
    for _ in range(209):
        template.pk = None
        clones.append(Order(**{f.attname: getattr(template, f.attname) for f in Order._meta.concrete_fields}))
    ids = [order.pk] + [o.pk for o in Order.objects.bulk_create(clones)]
    few, batch = ids[:10], ids[10:]
    assert len(batch) == 200

    with django_assert_max_num_queries(6) as small:
        assert tracking.parcels_advance(from_status="shipped", to_status="in_transit", order_ids=few, place="LHW") == few
    with django_assert_max_num_queries(len(small.captured_queries)):
        moved = tracking.parcels_advance(from_status="shipped", to_status="in_transit", order_ids=batch, place="LHW")

    assert moved == sorted(batch)
    assert Order.objects.filter(pk__in=batch, status="in_transit").count() == 200
    assert TransitionEvent.objects.filter(object_id__in=batch, to_state="in_transit", place="LHW").count() == 200
    # The same batch again (a retried task) moves nothing.
    assert tracking.parcels_advance(from_status="shipped", to_status="in_transit", order_ids=batch, place="LHW") == []


def test_places_name_the_border_crossing_the_warehouse_and_the_buyer_city():
    through_khorgos = Order(source_warehouse="KHG", ship_to_country_id="CN", ship_to_city="Urumqi", road="border")
    assert [tracking.place_of(through_khorgos, s) for s in ("picking", "in_transit", "at_customs", "cleared", "delivered")] == [
        "KHG", "KHG", "BC-KHORGOS-ALTYNKOL", "BC-KHORGOS-ALTYNKOL", "Urumqi"]
    in_kazakhstan = Order(source_warehouse="ALA", ship_to_country_id="KZ", ship_to_city="Almaty", road="bond")
    assert [tracking.place_of(in_kazakhstan, s) for s in ("at_customs", "cleared", "in_transit", "delivered")] == [
        "ALA", "ALA", "ALA", "Almaty"]


def test_the_border_route_has_two_legs_through_the_crossing_with_transit_days():
    from orders.routes import legs_for

    legs = legs_for(source="KHG", country="CN", city="Urumqi", road="border")
    assert [(leg.origin, leg.destination) for leg in legs] == [("KHG", "BC-KHORGOS-ALTYNKOL"), ("BC-KHORGOS-ALTYNKOL", "Urumqi")]
    assert legs[1].days_max == 2  # Urumqi–Kazakhstan rail, 48 hours
    assert [(leg.origin, leg.destination) for leg in legs_for(source="ALA", country="KZ", city="Almaty", road="bond")] == [
        ("ALA", "Almaty")]
