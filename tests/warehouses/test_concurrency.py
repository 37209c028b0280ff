"""Many buyers at once on PostgreSQL: the database, not Python, refuses the oversell."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from warehouses import services
from warehouses.models import Movement, Reservation, StockLevel

from .conftest import SkuFactory, assert_ledger_consistent, book

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(func):
    def run(*args):
        try:
            return func(*args)
        finally:
            connection.close()

    return run


def test_200_buyers_on_50_units_get_exactly_50_reservations(sku, wh):
    book("TAS", sku, 50)

    @_in_thread
    def buy(i):
        try:
            services.stock_reserve(lines=[(sku.pk, 1)], storefront_warehouses=["TAS"], buyer_country="UZ",
                                   reference=f"ORD-{i}", ttl_seconds=None, actor=SYSTEM_ACTOR)
            return "ok"
        except DomainError as exc:
            return exc.code.value

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(buy, range(200)))

    assert outcomes.count("ok") == 50
    assert outcomes.count("insufficient_stock") == 150
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved, level.available) == (50, 50, 0)
    assert Reservation.objects.filter(status="active").count() == 50
    assert Movement.objects.filter(kind="reserve").count() == 50
    assert not StockLevel.objects.filter(on_hand__lt=0).exists()
    assert_ledger_consistent()


def test_mixed_reserve_release_expire_bond_release_ship_return_keep_levels_equal_to_the_ledger(seller_company, wh):
    skus = [SkuFactory(company=seller_company) for _ in range(3)]
    for sku in skus:
        book("TAS", sku, 30, "bonded")
        book("TAS", sku, 10, "released")
        book("ALA", sku, 15, "released")

    @_in_thread
    def worker(seed):
        rng = random.Random(seed)
        counts = {"reserved": 0, "refused": 0}
        mine = []
        for step in range(25):
            action = rng.random()
            try:
                if action < 0.5 or not mine:
                    lines = [(s.pk, rng.randint(1, 4)) for s in rng.sample(skus, rng.randint(1, 3))]
                    ref = f"W{seed}-{step}"
                    services.stock_reserve(lines=lines, storefront_warehouses=["TAS", "ALA"],
                                           buyer_country=rng.choice(["UZ", "KZ"]), reference=ref,
                                           ttl_seconds=rng.choice([1, 600]), actor=SYSTEM_ACTOR)
                    mine.append(ref)
                    counts["reserved"] += 1
                elif action < 0.7:
                    services.stock_release(reference=mine.pop(rng.randrange(len(mine))), actor=SYSTEM_ACTOR)
                elif action < 0.85:
                    # customs releases what was sold from bond, then the warehouse ships; some parcels come back
                    ref = mine.pop(rng.randrange(len(mine)))
                    services.stock_release_from_bond(reference=ref, actor=SYSTEM_ACTOR)
                    services.stock_confirm_shipment(reference=ref, actor=SYSTEM_ACTOR)
                    if rng.random() < 0.3:
                        services.stock_return_shipment(reference=ref, actor=SYSTEM_ACTOR)
                else:
                    services.reservations_expire(now=timezone.now() + timedelta(seconds=2))
            except DomainError as exc:
                # short stock, or a reservation another worker's expiry closed first
                assert exc.code.value in {"insufficient_stock", "conflict"}, exc
                counts["refused"] += 1
        return counts

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, range(8)))

    assert sum(r["reserved"] for r in results) > 0
    assert not StockLevel.objects.filter(on_hand__lt=0).exists()
    assert not StockLevel.objects.filter(reserved__lt=0).exists()
    assert_ledger_consistent()
    # every unit is accounted for: booked in + returned = on hand + shipped
    shipped = -sum(Movement.objects.filter(kind="ship").values_list("on_hand_delta", flat=True))
    returned = sum(Movement.objects.filter(kind="return").values_list("on_hand_delta", flat=True))
    assert sum(StockLevel.objects.values_list("on_hand", flat=True)) + shipped == 3 * 55 + returned


def test_writers_of_the_same_two_levels_in_opposite_line_orders_never_deadlock(seller_company, wh):
    """Shipments, releases, reservations and transfers all write the same two level rows at once,
    each with its lines in the opposite order to the previous one's. The first SKU's level is the
    younger row, so (sku, level pk) order and plain pk order disagree: a writer locking in pk order
    or in its lines' order would deadlock against the others. Every writer locks in (sku, level pk)
    order (``_lock_levels``), so every round finishes, and the levels still equal the ledger."""
    rounds = 40
    first, second = SkuFactory(company=seller_company), SkuFactory(company=seller_company)
    book("TAS", second, 1000, "released")  # the older level row: the lower pk
    book("TAS", first, 1000, "released")
    a = StockLevel.objects.get(sku=first, warehouse_id="TAS")
    b = StockLevel.objects.get(sku=second, warehouse_id="TAS")
    assert a.sku_id < b.sku_id and a.pk > b.pk

    def lines(i):
        pair = [(first.pk, 1), (second.pk, 1)]
        return pair if i % 2 else pair[::-1]

    def reserve(ref, i):
        services.stock_reserve(lines=lines(i), storefront_warehouses=["TAS"], buyer_country="KZ", reference=ref,
                               ttl_seconds=None, actor=SYSTEM_ACTOR)

    for i in range(rounds):  # a reservation to ship and one to release in every round
        reserve(f"SHIP-{i}", i)
        reserve(f"DROP-{i}", i + 1)

    errors = []
    barrier = threading.Barrier(4)

    @_in_thread
    def together(job):
        try:
            barrier.wait(timeout=30)
            job()
        except Exception as exc:  # noqa: BLE001 - a deadlock is an OperationalError; any failure counts
            errors.append(exc)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for i in range(rounds):
            jobs = [
                lambda i=i: services.stock_confirm_shipment(reference=f"SHIP-{i}", actor=SYSTEM_ACTOR),
                lambda i=i: services.stock_release(reference=f"DROP-{i}", actor=SYSTEM_ACTOR),
                lambda i=i: reserve(f"NEW-{i}", i + 1),
                lambda i=i: services.transfer_create(source="TAS", destination="ALA", actor=SYSTEM_ACTOR,
                                                     lines=[(sku, "released", 1) for sku, _qty in lines(i)]),
            ]
            list(pool.map(together, jobs))

    assert errors == []
    for lv in (a, b):
        lv.refresh_from_db()
        # shipped one and transferred one per round; the new reservations still hold theirs
        assert (lv.on_hand, lv.reserved) == (1000 - 2 * rounds, rounds)
    assert Reservation.objects.filter(status="shipped").count() == rounds
    assert Reservation.objects.filter(status="released").count() == rounds
    assert_ledger_consistent()
