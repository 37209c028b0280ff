"""The filing task of bond payments (``orders.declare_paid_parcels``): the payments of one
transaction send one task, and payments in separate transactions send one while a task is queued
that has not read yet (a shared "pending" marker, cleared by the task before it reads). Whatever
the timing, no paid order is left undeclared: the task files every paid order sold from bond, and
the beat sweep files those a lost task left behind."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.db import transaction
from django.utils import timezone

from orders import services as orders
from orders import tasks
from orders.models import Order

from ..conftest import wait_for
from .conftest import CN_ADDRESS, book, in_thread, sends_of

pytestmark = pytest.mark.django_db(transaction=True)


def place_honey(buyer, honey):
    return orders.order_place(buyer=buyer, storefront="kz", lines=[{"product": honey.pk, "quantity": 1}],
                              ship_to=dict(CN_ADDRESS))


@pytest.fixture
def sent(monkeypatch):
    """The messages of ``orders.declare_paid_parcels`` sent to the broker (their ids), not delivered."""
    return sends_of(monkeypatch, tasks.declare_paid_parcels)


def statuses(placed) -> set[str]:
    return set(Order.objects.filter(pk__in=[o.pk for o in placed]).values_list("status", flat=True))


def test_bond_payments_in_separate_transactions_send_one_task_while_it_is_queued(buyer_cn, honey, sent):
    book("LHW", honey, 10)
    placed = [place_honey(buyer_cn, honey) for _ in range(6)]

    for order in placed[:5]:  # five requests, each its own transaction
        orders.order_pay(order=order, actor=buyer_cn)

    assert sent == [[placed[0].pk]]  # the first payment's task is queued: the next four send nothing
    assert statuses(placed[:5]) == {"paid"}

    # The worker takes it: it clears the marker, then files every paid bond order, not only its own.
    assert tasks.declare_paid_parcels.run(sent[0]) == 5
    assert statuses(placed[:5]) == {"at_customs"}

    orders.order_pay(order=placed[5], actor=buyer_cn)  # paid after the task's read: a task of its own
    assert sent == [[placed[0].pk], [placed[5].pk]]
    assert tasks.declare_paid_parcels.run(sent[1]) == 1 and statuses(placed) == {"at_customs"}
    assert tasks.declare_paid_parcels.run(sent[1]) == 0  # a copy finds it declared


def test_a_task_that_stops_with_a_full_batch_sends_the_next(buyer_cn, honey, sent, monkeypatch):
    book("LHW", honey, 10)
    placed = [place_honey(buyer_cn, honey) for _ in range(5)]
    with transaction.atomic():
        for order in placed:
            orders.order_pay(order=order, actor=buyer_cn)
    monkeypatch.setattr(tasks, "DECLARE_BATCH", 2)
    monkeypatch.setattr(tasks, "DECLARE_MAX_BATCHES", 2)

    assert tasks.declare_paid_parcels.run([]) == 4  # two transactions of two, then it stops
    assert sent[-1] == [] and statuses(placed) == {"paid", "at_customs"}
    assert tasks.declare_paid_parcels.run([]) == 1 and statuses(placed) == {"at_customs"}
    assert len(sent) == 2  # the last one found the rest and sent nothing more


def test_the_payments_of_one_transaction_send_one_task(buyer_cn, honey, sent):
    book("LHW", honey, 10)
    placed = [place_honey(buyer_cn, honey) for _ in range(4)]

    with transaction.atomic():
        for order in placed:
            orders.order_pay(order=order, actor=buyer_cn)

    assert sent == [sorted(o.pk for o in placed)]


def test_without_a_cache_every_process_shares_each_payment_sends_its_task(buyer_cn, honey, sent, settings):
    """The demo's LocMem cache lives in one process (the web's marker would never be cleared by the
    worker): there, every commit sends, as before."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    book("LHW", honey, 10)
    placed = [place_honey(buyer_cn, honey) for _ in range(3)]

    for order in placed:
        orders.order_pay(order=order, actor=buyer_cn)

    assert sent == [[o.pk] for o in placed]


def test_a_payment_whose_task_was_lost_is_filed_by_the_sweep(buyer_cn, honey, sent):
    book("LHW", honey, 10)
    lost, fresh = place_honey(buyer_cn, honey), place_honey(buyer_cn, honey)
    orders.order_pay(order=lost, actor=buyer_cn)
    orders.order_pay(order=fresh, actor=buyer_cn)
    assert sent == [[lost.pk]]  # and that message is lost with its worker; the marker expires
    Order.objects.filter(pk=lost.pk).update(paid_at=timezone.now() - timedelta(seconds=tasks.DECLARE_SWEEP_AFTER + 1))

    assert tasks.declare_sweep.run() == 1  # the one paid long ago; the fresh one is left to its task
    assert Order.objects.get(pk=lost.pk).status == "at_customs"
    assert Order.objects.get(pk=fresh.pk).status == "paid"


class Runs:
    """Counts the runs of ``orders.declare_paid_parcels`` on the in-process worker."""

    def __init__(self):
        self.count = 0

    def __call__(self, sender=None, **kwargs):
        if getattr(sender, "name", None) == "orders.declare_paid_parcels":
            self.count += 1


def test_concurrent_bond_payments_on_a_real_worker_are_all_declared(celery_worker, buyer_cn, honey, settings):
    """Payments committed in separate transactions from several threads while the worker files:
    every order is declared (none stranded by the marker), by no more tasks than payments."""
    settings.WAREHOUSES_FULFILMENT_SIMULATOR = False  # the filing is the subject: customs goes on, the warehouse waits
    book("LHW", honey, 10)
    placed = [place_honey(buyer_cn, honey) for _ in range(12)]
    runs = Runs()
    task_postrun.connect(runs, weak=False)
    try:
        def pay(order):
            orders.order_pay(order=order, actor=buyer_cn)

        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(in_thread(pay), placed))

        wait_for(lambda: "paid" not in statuses(placed), timeout=30)
    finally:
        task_postrun.disconnect(runs)
    assert "paid" not in statuses(placed)
    assert 1 <= runs.count <= len(placed)
