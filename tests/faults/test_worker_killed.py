"""A Celery worker killed with SIGKILL in the middle of the work (the whole worker: its main process
and its pool children, as a lost machine), then a new worker started and the beat sweeps run: every
object ends in a legal state, no transition is applied twice, the ledger balances and the stock
ledger agrees with the levels (docs/operations.md, "What makes a lost or repeated task harmless")."""

from __future__ import annotations

import time

import pytest

from core.access import SYSTEM_ACTOR
from core.models import TransitionEvent
from orders import services as orders
from orders.models import Order
from tests.conftest import wait_for
from tests.orders.conftest import CN_ADDRESS, book, fund, make_product

from .conftest import assert_all_invariants, assert_no_transition_twice

pytestmark = [pytest.mark.faults, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

ORDERS = 30
# The bond road of a honey order sold from the Lanzhou bond to a buyer in Urumqi.
ROAD = ["placed", "paid", "at_customs", "cleared", "picking", "packed", "shipped", "in_transit", "delivered"]
MIDWAY = ["at_customs", "cleared", "picking", "packed", "shipped", "in_transit"]
# The worker's timers: short, but long enough that the orders are spread along the road when it dies.
ROAD_ENV = {
    "WAREHOUSES_FULFILMENT_SIMULATOR": "1", "WAREHOUSES_DELAY_PICK": "0.3", "WAREHOUSES_DELAY_PACK": "0.3",
    "WAREHOUSES_DELAY_SHIP": "0.3", "WAREHOUSES_FULFILMENT_BOND_RETRY_DELAY": "1",
    "MARKETPLACE_TRACKING_DELAY_SHIPPED": "1", "MARKETPLACE_TRACKING_DELAY_IN_TRANSIT": "1",
    "MARKETPLACE_TRACKING_DELAY_CLEARED": "1", "FAULTS_VISIBILITY_TIMEOUT": "5",
}


@pytest.fixture
def road_settings(settings):
    """This process runs the beat sweeps: nothing counts as recent, so each finds what is stuck now."""
    settings.WAREHOUSES_FULFILMENT_SIMULATOR = True
    settings.MARKETPLACE_TRACKING_SWEEP_MARGIN = 0
    settings.WAREHOUSES_FULFILMENT_STALL_AFTER = 0
    settings.CUSTOMS_SIMULATOR = {**settings.CUSTOMS_SIMULATOR, "stall_after": 0}
    return settings


def paid_orders(make_seller, make_user, n: int) -> list[int]:
    seller = make_seller("fault_seller", "KZ", name="Altyn Bal LLP", storefronts=["kz"])
    honey = make_product(seller.company, storefront="kz", price="88.00", title="Mountain honey", hs_code="040900",
                         category="honey", weight=500)
    book("LHW", honey, n + 10)
    buyer = make_user("fault_buyer", "buyer")
    fund(buyer, "100000.00", "CNY")
    ids = []
    for _ in range(n):
        order = orders.order_place(buyer=buyer, storefront="kz", lines=[{"product": honey.pk, "quantity": 1}],
                                   ship_to=dict(CN_ADDRESS))
        orders.order_pay(order=order, actor=buyer)  # sends the declaration task to the broker
        ids.append(order.pk)
    return ids


def run_sweeps():
    """What beat sends every few minutes, run here as beat would (each only re-sends tasks)."""
    from customs.tasks import resume_stalled
    from orders.tasks import parcels_sweep, returns_sweep
    from payments.tasks import sweep_payouts
    from warehouses.tasks import expire_reservations, resume_fulfilments

    for task in (parcels_sweep, resume_stalled, resume_fulfilments, expire_reservations, sweep_payouts, returns_sweep):
        task.apply()


def status_counts(ids) -> dict[str, int]:
    from django.db.models import Count

    return dict(Order.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("pk")))


def drive_to_the_end(ids, worker, timeout: float = 120.0) -> None:
    """Until every order is delivered: let the worker work, and run the sweeps every few seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Order.objects.filter(pk__in=ids, status="delivered").count() == len(ids):
            return
        run_sweeps()
        time.sleep(3)
    raise AssertionError(f"not all delivered: {status_counts(ids)}\n{worker.output()}")


def assert_each_order_took_the_road_once(ids):
    for pk in ids:
        steps = list(TransitionEvent.objects.filter(machine="order", object_id=pk).order_by("at", "pk")
                     .values_list("to_state", flat=True))
        assert steps == ROAD, (pk, steps)


def test_worker_killed_midway_through_the_road(private_broker, workers, road_settings, make_seller, make_user):
    redis, _app = private_broker
    ids = paid_orders(make_seller, make_user, ORDERS)
    first = workers(redis.url, ROAD_ENV)

    def in_flight():
        counts = status_counts(ids)
        return sum(counts.get(s, 0) for s in MIDWAY) >= 3 and counts.get("delivered", 0) < ORDERS and counts

    try:
        at_kill = wait_for(in_flight, timeout=90, interval=0.02)
    except AssertionError:
        raise AssertionError(f"{status_counts(ids)}\n{first.output()}") from None
    first.kill()
    assert_no_transition_twice()  # nothing half-applied by the dead worker either

    second = workers(redis.url, ROAD_ENV)
    drive_to_the_end(ids, second)
    second.stop()

    assert at_kill.get("delivered", 0) < ORDERS
    assert_each_order_took_the_road_once(ids)
    assert_all_invariants()
