"""Many buyers at once on PostgreSQL: the database, not Python, refuses the oversell."""

import random
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
