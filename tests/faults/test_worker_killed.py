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

from .conftest import VISIBILITY, assert_all_invariants, assert_no_transition_twice, let_messages_expire

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
    "MARKETPLACE_TRACKING_DELAY_CLEARED": "1", "FAULTS_VISIBILITY_TIMEOUT": str(VISIBILITY),
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
    from orders.tasks import customs_sweep, parcels_sweep, rejected_sweep, returns_sweep, warehouse_sweep
    from payments.tasks import sweep_payouts
    from warehouses.tasks import expire_reservations, resume_fulfilments

    for task in (parcels_sweep, resume_stalled, resume_fulfilments, expire_reservations, sweep_payouts, returns_sweep,
                 rejected_sweep, customs_sweep, warehouse_sweep):
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
    assert redis.client().hlen("unacked") > 0  # the dead worker held messages it never acknowledged
    assert_no_transition_twice()  # nothing half-applied by the dead worker either
    let_messages_expire()

    second = workers(redis.url, ROAD_ENV)
    drive_to_the_end(ids, second)
    second.stop()

    assert at_kill.get("delivered", 0) < ORDERS
    assert_each_order_took_the_road_once(ids)
    assert_all_invariants()


# --- a catalogue import of a few thousand rows ----------------------------------------------------

IMPORT_ROWS = 2000
CHUNK_ROWS = 100
BAD_EVERY = 50  # one row in 50 has a wrong HS code: refused, reported, the rest goes in
HEADER = "sku,category,hs_code,origin_country,net_weight_g,gross_weight_g,title_en,title_ru,title_zh,description_en,price_kz"


def catalogue_csv(rows: int) -> bytes:
    lines = [HEADER]
    for n in range(1, rows + 1):
        hs = "12" if n % BAD_EVERY == 0 else "040900"
        lines.append(f"FLT-{n:05d},honey,{hs},KZ,250,310,Buckwheat honey {n},Мёд {n},蜂蜜 {n},Dark honey,39.90")
    return ("\r\n".join(lines) + "\r\n").encode()


def test_worker_killed_in_the_middle_of_a_catalogue_import(private_broker, workers, make_seller, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from marketplace import services as catalogue
    from marketplace.models import CatalogueImport, CatalogueImportChunk, CatalogueImportError, Product

    redis, _app = private_broker
    settings.MEDIA_ROOT = str(tmp_path / "media")
    env = {"MEDIA_ROOT": settings.MEDIA_ROOT, "MARKETPLACE_IMPORT_CHUNK_ROWS": str(CHUNK_ROWS),
           "FAULTS_VISIBILITY_TIMEOUT": str(VISIBILITY)}
    seller = make_seller("fault_importer", "KZ", name="Bal Import LLP", storefronts=["kz"])
    imp = catalogue.catalogue_import_create(company=seller.company, actor=seller,
                                            file=SimpleUploadedFile("catalogue.csv", catalogue_csv(IMPORT_ROWS)))
    chunks = IMPORT_ROWS // CHUNK_ROWS
    bad = IMPORT_ROWS // BAD_EVERY
    first = workers(redis.url, env)

    def in_flight():
        state = CatalogueImport.objects.values("chunks_done", "chunks_total", "status").get(pk=imp.pk)
        return state["status"] == "running" and 2 <= state["chunks_done"] <= chunks - 3 and state

    try:
        wait_for(in_flight, timeout=90, interval=0.02)
    except AssertionError:
        raise AssertionError(f"{CatalogueImport.objects.filter(pk=imp.pk).values().first()}\n{first.output()}") from None
    first.kill()
    assert redis.client().hlen("unacked") > 0  # chunks taken by the dead worker and never acknowledged

    # What the dead worker left: only whole chunks, each with its counters moved in its transaction.
    done = CatalogueImportChunk.objects.filter(catalogue_import_id=imp.pk, done=True)
    written = sum(done.values_list("rows_done", flat=True))
    state = CatalogueImport.objects.get(pk=imp.pk)
    assert 0 < done.count() < chunks and state.status == "running"
    assert Product.objects.filter(company=seller.company).count() == written == state.rows_done == state.products_created
    assert state.chunks_done == done.count()
    assert CatalogueImportError.objects.filter(catalogue_import_id=imp.pk).count() == state.rows_failed
    let_messages_expire()

    second = workers(redis.url, env)
    # A chunk's message the dead worker had taken but not yet recorded as unacknowledged is lost
    # with it; beat's sweep re-sends what is not done (as it would after 5 minutes without progress).
    settings.MARKETPLACE_IMPORT_STALL_AFTER = 0

    def finished():
        if CatalogueImport.objects.filter(pk=imp.pk, status__in=["done", "failed"]).exists():
            return True
        if time.monotonic() > sweep_at[0]:
            imports_resume.apply()
            sweep_at[0] = time.monotonic() + 10
        return False

    from marketplace.tasks import imports_resume

    sweep_at = [time.monotonic() + 10]  # first the redelivery of what the dead worker held
    try:
        wait_for(finished, timeout=120, interval=0.2)
    except AssertionError:
        raise AssertionError(f"{CatalogueImport.objects.filter(pk=imp.pk).values().first()}\n{second.output()}") from None
    second.stop()

    state = CatalogueImport.objects.get(pk=imp.pk)
    assert state.status == "done"
    assert state.chunks_done == state.chunks_total == chunks
    assert Product.objects.filter(company=seller.company).count() == IMPORT_ROWS - bad == state.rows_done
    assert state.products_created == IMPORT_ROWS - bad and state.products_updated == 0 and state.rows_failed == bad
    assert CatalogueImportError.objects.filter(catalogue_import_id=imp.pk).count() == bad  # each refusal reported once
    assert Product.objects.filter(company=seller.company, status="active").count() == IMPORT_ROWS - bad
    assert_no_transition_twice()


# --- a payout at the bank -----------------------------------------------------------------------


def test_worker_killed_while_payouts_are_at_the_bank(private_broker, workers, make_seller):
    from datetime import timedelta

    from django.utils import timezone

    from core.money import Money
    from payments import services as pay
    from payments.interface import Owner
    from payments.models import Payout, Transaction
    from tests.payments.helpers import wallet_minor

    redis, _app = private_broker
    seller = make_seller("fault_payee", "KZ", name="Payee LLP", storefronts=["kz"])
    owner = Owner.company(seller.company.pk)
    pay.top_up(owner=owner, amount=Money.of("1000.00", "KZT"), provider="simulator", provider_event_id="fault-payout",
               actor=SYSTEM_ACTOR)
    good = pay.payout_request(owner=owner, amount=Money.of("100.00", "KZT"), actor=SYSTEM_ACTOR)
    refused = pay.payout_request(owner=owner, amount=Money.of("50.13", "KZT"), actor=SYSTEM_ACTOR)  # the bank refuses .13
    ids = [good.pk, refused.pk]
    # The first worker's bank answers after a minute: both payouts are provably at the bank when it dies.
    first = workers(redis.url, {"FAULTS_PAYOUT_DELAY": "60", "FAULTS_VISIBILITY_TIMEOUT": str(VISIBILITY)})
    try:
        wait_for(lambda: Payout.objects.filter(pk__in=ids, status="processing").count() == 2, timeout=60)
    except AssertionError:
        raise AssertionError(first.output()) from None
    first.kill()
    assert redis.client().hlen("unacked") == 2  # both payout tasks died at the bank, unacknowledged
    assert wallet_minor(owner, "KZT") == 100000 - 10000 - 5013  # both amounts waiting in payouts_pending
    let_messages_expire()

    second = workers(redis.url, {"FAULTS_VISIBILITY_TIMEOUT": str(VISIBILITY)})
    # Beat's sweep finds payouts untouched for five minutes: as if they were.
    Payout.objects.filter(pk__in=ids).update(updated_at=timezone.now() - timedelta(minutes=6))
    from payments.tasks import sweep_payouts

    sweep_payouts.apply()
    try:
        wait_for(lambda: Payout.objects.filter(pk__in=ids, status__in=["paid", "failed"]).count() == 2, timeout=60)
    except AssertionError:
        raise AssertionError(second.output()) from None
    time.sleep(2)  # the dead worker's messages (back at the new worker's start) and the sweep's: nothing left to do
    second.stop()

    assert dict(Payout.objects.filter(pk__in=ids).values_list("pk", "status")) == {good.pk: "paid", refused.pk: "failed"}
    for payout in (good, refused):
        payout.refresh_from_db()
        keys = sorted(Transaction.objects.filter(reference=payout.reference).values_list("idempotency_key", flat=True))
        end = "paid" if payout.pk == good.pk else "failed"
        assert keys == sorted([f"payout:{payout.pk}:requested", f"payout:{payout.pk}:{end}"])
    assert wallet_minor(owner, "KZT") == 100000 - 10000  # the refused 50.13 came back, once
    assert_all_invariants()
