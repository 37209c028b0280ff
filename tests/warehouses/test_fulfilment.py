"""Pick, pack, ship: never a unit still in bond, the caller told of every step, and the simulator."""

from datetime import timedelta

import pytest
from celery import shared_task
from django.utils import timezone

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.states import history
from tests.conftest import wait_for
from warehouses import interface, services
from warehouses.models import Fulfilment, Movement, Parcel, StockLevel

from .conftest import SkuFactory, assert_ledger_consistent, book

PACK = [{"weight_g": 450, "length_mm": 200, "width_mm": 150, "height_mm": 80}]
NO_DELAYS = {"requested": 0, "picking": 0, "packed": 0}
CALLBACK = "tests.warehouses.fulfilment_seen"
seen: list[interface.FulfilmentEvent] = []


@shared_task(name=CALLBACK)
def fulfilment_seen(reference, warehouse, tracking_numbers, status="shipped"):
    """The caller's callback as a receiver writes it: the wire shape through FulfilmentEvent."""
    seen.append(interface.FulfilmentEvent.from_task(reference, warehouse, tracking_numbers, status=status))


def order(sku, qty, *, reference="ORD-1", country="UZ", warehouses=("TAS",), callback=""):
    services.stock_reserve(lines=[(sku.pk, qty)], storefront_warehouses=list(warehouses), buyer_country=country,
                           reference=reference, ttl_seconds=None, actor=SYSTEM_ACTOR)
    [fulfilment] = services.fulfilment_request(reference=reference, callback_task=callback, actor=SYSTEM_ACTOR)
    return fulfilment


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("warehouses.services.fulfilment.current_app.send_task",
                        lambda name, args, kwargs: calls.append((name, args, kwargs)))
    return calls


@pytest.mark.django_db
def test_units_in_bond_are_neither_picked_nor_shipped_until_customs_releases_them(
        sku, wh, operator_tas, sent, django_capture_on_commit_callbacks):
    book("TAS", sku, 10, "bonded")
    fulfilment = order(sku, 3, callback="orders.fulfilment_changed")
    with pytest.raises(DomainError) as err:
        services.fulfilment_pick(fulfilment=fulfilment, actor=operator_tas)
    assert (err.value.code, err.value.status) == ("customs_not_cleared", 409)
    assert err.value.message == "Customs has not released these units from bond yet."
    fulfilment.refresh_from_db()
    assert fulfilment.status == "requested" and not list(history(fulfilment))
    # a fulfilment already packed by hand (say, before this rule) still cannot ship: nothing moves
    Fulfilment.objects.filter(pk=fulfilment.pk).update(status="packed")
    fulfilment.refresh_from_db()
    with pytest.raises(DomainError) as err:
        services.fulfilment_ship(fulfilment=fulfilment, actor=operator_tas)
    assert err.value.code == "customs_not_cleared"
    fulfilment.refresh_from_db()
    assert fulfilment.status == "packed" and not Movement.objects.filter(kind="ship").exists()
    Fulfilment.objects.filter(pk=fulfilment.pk).update(status="requested")
    fulfilment.refresh_from_db()
    assert sent == []

    services.stock_release_from_bond(reference="ORD-1", actor=SYSTEM_ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        services.fulfilment_pick(fulfilment=fulfilment, actor=operator_tas)
    with django_capture_on_commit_callbacks(execute=True):
        services.parcel_pack(fulfilment=fulfilment, parcels=PACK, actor=operator_tas)
    with django_capture_on_commit_callbacks(execute=True):
        services.fulfilment_ship(fulfilment=fulfilment, actor=operator_tas)
    fulfilment.refresh_from_db()
    assert fulfilment.status == "shipped" and fulfilment.moved_at == fulfilment.shipped_at
    tracking = list(Parcel.objects.filter(fulfilment=fulfilment).values_list("tracking_number", flat=True))
    assert sent == [
        ("orders.fulfilment_changed", ["ORD-1", "TAS", []], {"status": "picking"}),
        ("orders.fulfilment_changed", ["ORD-1", "TAS", []], {"status": "packed"}),
        ("orders.fulfilment_changed", ["ORD-1", "TAS", tracking], {"status": "shipped"}),
    ]
    assert [(e.to_state, e.place, e.actor_label) for e in history(fulfilment)] == [
        ("picking", "TAS", "operator_tas"), ("packed", "TAS", "operator_tas"), ("shipped", "TAS", "operator_tas")]
    released = StockLevel.objects.get(warehouse_id="TAS", sku=sku, bond_status="released")
    assert (released.on_hand, released.reserved) == (0, 0)
    assert_ledger_consistent()


@pytest.mark.django_db
def test_bonded_units_sold_across_a_border_and_released_units_are_picked_at_once(sku, wh, operator_tas):
    book("TAS", sku, 10, "bonded")
    abroad = order(sku, 2, reference="ORD-KZ", country="KZ")
    services.fulfilment_pick(fulfilment=abroad, actor=operator_tas)
    released_sku = SkuFactory(company=sku.company)
    book("TAS", released_sku, 5, "released")
    at_home = order(released_sku, 1, reference="ORD-UZ", country="UZ")
    services.fulfilment_pick(fulfilment=at_home, actor=operator_tas)
    assert {abroad.status, at_home.status} == {"picking"}


@pytest.mark.django_db
def test_an_illegal_move_is_refused_as_such_before_the_bond_is_looked_at(sku, wh, operator_tas):
    book("TAS", sku, 10, "bonded")
    fulfilment = order(sku, 1)
    Fulfilment.objects.filter(pk=fulfilment.pk).update(status="packed")
    with pytest.raises(DomainError) as err:
        services.fulfilment_pick(fulfilment=fulfilment, actor=operator_tas)
    assert err.value.code == "illegal_transition"


def test_the_event_keeps_its_wire_shape():
    event = interface.FulfilmentEvent(reference="ORD-1", warehouse="TAS", status="shipped", tracking_numbers=["KRV1"])
    assert (event.task_args(), event.task_kwargs()) == (["ORD-1", "TAS", ["KRV1"]], {"status": "shipped"})
    assert interface.FulfilmentEvent.from_task(*event.task_args(), **event.task_kwargs()) == event
    # a message from before the status existed meant a shipment
    assert interface.FulfilmentEvent.from_task("ORD-1", "TAS", ["KRV1"]).status == "shipped"


# --- the simulator, one step at a time ---------------------------------------------------------


@pytest.fixture
def simulator(settings):
    settings.WAREHOUSES_FULFILMENT_SIMULATOR = True
    settings.WAREHOUSES_FULFILMENT_DELAYS = NO_DELAYS
    return settings


@pytest.mark.django_db
def test_the_simulator_is_off_in_tests_and_then_does_nothing(sku, wh, settings, django_capture_on_commit_callbacks):
    assert settings.WAREHOUSES_FULFILMENT_SIMULATOR is False
    book("TAS", sku, 10, "released")
    with django_capture_on_commit_callbacks() as callbacks:
        fulfilment = order(sku, 1)
    assert callbacks == []
    assert services.fulfilment_simulate(fulfilment_id=fulfilment.pk) is None
    assert services.fulfilments_resume(now=timezone.now() + timedelta(days=1)) == 0
    fulfilment.refresh_from_db()
    assert fulfilment.status == "requested"


@pytest.mark.django_db
def test_the_simulator_follows_a_move_by_hand_and_packs_the_units_weight(
        simulator, seller_company, wh, operator_tas, django_capture_on_commit_callbacks):
    phone = SkuFactory(company=seller_company, weight_g=180)
    charger = SkuFactory(company=seller_company, weight_g=0)  # no weight recorded: counted as 100 g
    book("TAS", phone, 10, "released")
    book("TAS", charger, 10, "released")
    services.stock_reserve(lines=[(phone.pk, 3), (charger.pk, 2)], storefront_warehouses=["TAS"], buyer_country="UZ",
                           reference="ORD-1", ttl_seconds=None, actor=SYSTEM_ACTOR)
    with django_capture_on_commit_callbacks() as callbacks:
        [fulfilment] = services.fulfilment_request(reference="ORD-1", actor=SYSTEM_ACTOR)
        services.fulfilment_request(reference="ORD-1", actor=SYSTEM_ACTOR)  # a repeat starts no second simulator
    assert len(callbacks) == 1

    services.fulfilment_pick(fulfilment=fulfilment, actor=operator_tas)  # the operator was quicker
    assert services.fulfilment_simulate(fulfilment_id=fulfilment.pk) == "packed"
    [parcel] = Parcel.objects.filter(fulfilment=fulfilment)
    assert parcel.weight_g == 3 * 180 + 2 * 100
    assert (parcel.length_mm, parcel.width_mm, parcel.height_mm) == (300, 200, 150)
    assert services.fulfilment_simulate(fulfilment_id=fulfilment.pk) == "shipped"
    assert services.fulfilment_simulate(fulfilment_id=fulfilment.pk) is None  # shipped: nothing more
    assert [(e.to_state, e.actor_label) for e in history(fulfilment)] == [
        ("picking", "operator_tas"), ("packed", "system"), ("shipped", "system")]
    assert Parcel.objects.get(fulfilment=fulfilment).tracking_number.startswith("KRVTAS")
    assert_ledger_consistent()


@pytest.mark.django_db
def test_heavy_orders_are_split_under_the_carriers_limit(simulator, seller_company, wh):
    anvil = SkuFactory(company=seller_company, weight_g=30_000)
    book("TAS", anvil, 5, "released")
    fulfilment = order(anvil, 5)
    services.fulfilment_simulate(fulfilment_id=fulfilment.pk)
    services.fulfilment_simulate(fulfilment_id=fulfilment.pk)
    weights = list(Parcel.objects.filter(fulfilment=fulfilment).values_list("weight_g", flat=True))
    assert sorted(weights) == [50_000, 50_000, 50_000] and all(w <= 70_000 for w in weights)


@pytest.mark.django_db
def test_the_simulator_waits_for_the_release_from_bond(simulator, sku, wh, django_capture_on_commit_callbacks):
    book("TAS", sku, 10, "bonded")
    fulfilment = order(sku, 2)
    with pytest.raises(DomainError) as err:
        services.fulfilment_simulate(fulfilment_id=fulfilment.pk)
    assert err.value.code == "customs_not_cleared"
    # the sweep leaves it alone while in bond; the release itself wakes the simulator
    assert services.fulfilments_resume(now=timezone.now() + timedelta(hours=1)) == 0
    with django_capture_on_commit_callbacks() as callbacks:
        services.stock_release_from_bond(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert len(callbacks) == 1
    assert services.fulfilment_simulate(fulfilment_id=fulfilment.pk) == "picking"


@pytest.mark.django_db
def test_the_sweep_resends_the_step_of_fulfilments_that_stopped_moving(simulator, sku, wh, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    from warehouses import tasks

    book("TAS", sku, 10, "released")
    fulfilment = order(sku, 1)
    assert services.fulfilments_resume() == 0  # just requested: not stalled
    stall = timedelta(seconds=simulator.WAREHOUSES_FULFILMENT_STALL_AFTER + 1)
    Fulfilment.objects.filter(pk=fulfilment.pk).update(created_at=timezone.now() - stall)
    sent = []
    monkeypatch.setattr(tasks.simulate_fulfilment, "apply_async", lambda args, kwargs, **options: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.fulfilments_resume() == 1
    assert sent == [(fulfilment.pk,)]
    services.fulfilment_simulate(fulfilment_id=fulfilment.pk)
    assert services.fulfilments_resume() == 0  # it moved: its clock restarted
    assert services.fulfilments_resume(now=timezone.now() + stall) == 1
    Fulfilment.objects.filter(pk=fulfilment.pk).update(status="cancelled")
    assert services.fulfilments_resume(now=timezone.now() + stall) == 0


# --- the simulator through a real worker ---------------------------------------------------------


@pytest.mark.celery
def test_the_simulator_takes_requested_fulfilments_to_shipped_by_itself(celery_worker, simulator, seller_company, wh):
    """Nobody acts: a sale across a border ships at once, a sale from bond once customs releases it,
    and the caller hears of every step."""
    simulator.WAREHOUSES_FULFILMENT_BOND_RETRY_DELAY = 0.2
    seen.clear()
    sku = SkuFactory(company=seller_company, weight_g=250)
    book("TAS", sku, 10, "bonded")
    abroad = order(sku, 3, reference="ORD-KZ", country="KZ", callback=CALLBACK)
    in_bond = order(sku, 2, reference="ORD-UZ", country="UZ", callback=CALLBACK)

    def status_of(fulfilment, value):
        def check():
            fulfilment.refresh_from_db()
            return fulfilment.status == value
        return check

    wait_for(status_of(abroad, "shipped"), timeout=60)
    wait_for(lambda: len([e for e in seen if e.reference == "ORD-KZ"]) == 3, timeout=30)
    in_bond.refresh_from_db()
    assert in_bond.status == "requested"  # customs has not released it: the simulator waits
    services.stock_release_from_bond(reference="ORD-UZ", actor=SYSTEM_ACTOR)
    wait_for(status_of(in_bond, "shipped"), timeout=60)
    wait_for(lambda: len([e for e in seen if e.reference == "ORD-UZ"]) == 3, timeout=30)

    for fulfilment in (abroad, in_bond):
        assert [(e.to_state, e.actor_label, e.place) for e in history(fulfilment)] == [
            ("picking", "system", "TAS"), ("packed", "system", "TAS"), ("shipped", "system", "TAS")]
        events = [e for e in seen if e.reference == fulfilment.reference]
        assert [(e.warehouse, e.status) for e in events] == [("TAS", "picking"), ("TAS", "packed"), ("TAS", "shipped")]
        [parcel] = Parcel.objects.filter(fulfilment=fulfilment)
        assert events[-1].tracking_numbers == [parcel.tracking_number] and events[0].tracking_numbers == []
    assert Parcel.objects.get(fulfilment=abroad).weight_g == 3 * 250
    assert sorted(Movement.objects.filter(kind="ship").values_list("reference", "bond_status", "quantity")) == [
        ("ORD-KZ", "bonded", 3), ("ORD-UZ", "released", 2)]
    assert_ledger_consistent()
