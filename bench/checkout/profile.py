"""Where one checkout's time goes: place + pay in a loop in one process, on the database a
``bench/checkout/run.py --keep`` run left behind.

    .venv/bin/python bench/checkout/run.py --keep --buyers 10 --units 5      # once: the seed
    .venv/bin/python bench/checkout/profile.py [--orders 200] [--restock] [--mode time|statements|cprofile|backend]
        [--top N] [--dump FILE] [--offset N]
    .venv/bin/py-spy record -o out.svg -- .venv/bin/python bench/checkout/profile.py --orders 300

``time`` prints wall and client CPU per order (CPU of this process only: what is left is waiting on
PostgreSQL and Redis), the serving backend's CPU (from /proc, PostgreSQL on this machine) and the
ceiling they set on the cores; ``statements`` prints the statements of one checkout with their times;
``cprofile`` prints the client's time by package (``--top N`` also its N costliest functions);
``backend`` prints the serving backend's CPU per statement of the checkout (from
``/proc/<pid>/schedstat``, nanoseconds, read before and after each round trip: PostgreSQL on this
machine, Linux).
``--restock`` receives 1,000 more units of every product and tops up every buyer's wallet first (each
run takes one unit and one payment per order).
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# This file's own folder first on the path would hide the standard library's ``profile`` from cProfile.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from bench import scratch  # noqa: E402 - after the path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--restock", action="store_true")
    parser.add_argument("--mode", choices=["time", "statements", "cprofile", "backend"], default="time")
    parser.add_argument("--top", type=int, default=0, help="cprofile: also list the N functions with most own time")
    parser.add_argument("--dump", help="cprofile: also write the profile to this file (pstats)")
    parser.add_argument("--offset", type=int, default=0,
                        help="start at this buyer and product (several profiles at once, each on its own rows)")
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("checkout_bench", Path(__file__).with_name("run.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    scratch.setup_django(os.environ.get("CHECKOUT_BENCH_DB", bench.DB))

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.access import SYSTEM_ACTOR
    from core.money import Money
    from marketplace.models import Product
    from orders.services import order_pay, order_place
    from payments import services as payments
    from payments.interface import Owner
    from warehouses import services as warehouses

    buyers = list(get_user_model().objects.filter(username__startswith="bench_buyer").order_by("pk")[:200])
    products = list(Product.objects.filter(sku_code__startswith="BENCH-").exclude(sku_code__startswith="BENCH-HOT-").order_by("pk"))
    if args.restock:
        for product in products:
            warehouses.stock_receive(warehouse=bench.WAREHOUSE, sku_id=product.sku_id, quantity=1000, bond_status="bonded",
                                     reference="profile", actor=SYSTEM_ACTOR)
        for buyer in buyers:
            payments.wallet_top_up(owner=Owner.user(buyer), amount=Money.of(bench.FUNDS, "KZT"),
                                   provider="simulator", provider_event_id=f"profile-{buyer.pk}-{time.time_ns()}",
                                   actor=SYSTEM_ACTOR)

    def checkout(i: int) -> None:
        i += args.offset
        buyer = buyers[i % len(buyers)]
        order = order_place(buyer=buyer, storefront=bench.STOREFRONT, ship_to=dict(bench.SHIP_TO),
                            lines=[{"product": products[i % len(products)].pk, "quantity": 1}])
        order_pay(order=order, actor=buyer)

    for i in range(5):  # warm: content types, the customs rules' memo, prepared statements
        checkout(i)
    if args.mode == "statements":
        with CaptureQueriesContext(connection) as ctx:
            checkout(5)
        for q in ctx.captured_queries:
            print(q["time"], " ".join(q["sql"].split())[:160])
        print(f"{len(ctx.captured_queries)} statements, with BEGIN and COMMIT")
        return
    if args.mode == "backend":
        _per_statement(checkout, connection.connection.info.backend_pid, args.orders)
        return
    profiler = None
    if args.mode == "cprofile":
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    backend = connection.connection.info.backend_pid
    wall, cpu, server = time.perf_counter(), time.process_time(), _backend_cpu(backend)
    for i in range(args.orders):
        checkout(10 + i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server = None if server is None or _backend_cpu(backend) is None else _backend_cpu(backend) - server
    if profiler is not None:
        import pstats

        profiler.disable()
        if args.dump:
            profiler.dump_stats(args.dump)
        by_package: collections.Counter = collections.Counter()
        for (path, _line, name), (_cc, _nc, own, _cum, _callers) in pstats.Stats(profiler).stats.items():
            if name == "wait" and "psycopg" in path:
                by_package["(waiting on PostgreSQL)"] += own
            elif "site-packages/" in path:
                by_package[path.split("site-packages/")[1].split("/")[0]] += own
            elif str(ROOT) in path:
                by_package[path.split(str(ROOT) + "/")[1].split("/")[0]] += own
            else:
                by_package["(stdlib, builtins)"] += own
        if args.top:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
        for package, seconds in by_package.most_common(15):
            print(f"{seconds / args.orders * 1000:8.2f} ms/order  {package}")
    print(f"{args.orders} orders: wall {wall / args.orders * 1000:.2f} ms/order, client CPU {cpu / args.orders * 1000:.2f} ms/order")
    if server is not None:
        per_order = (cpu + server) / args.orders
        print(f"PostgreSQL backend CPU {server / args.orders * 1000:.2f} ms/order; client + backend "
              f"{per_order * 1000:.2f} ms/order: at most {os.cpu_count() / per_order:.0f} orders/s on "
              f"{os.cpu_count()} cores with nothing else running")


def _per_statement(checkout, pid: int, orders: int) -> None:
    """Run ``orders`` checkouts, charging the backend's CPU between the start and the end of each
    round trip (a statement, a COMMIT) to that statement's text. The backend is idle between round
    trips, so what is charged is nearly all it spent."""
    import psycopg

    from core import sql

    def ran() -> int:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])

    spent: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()

    def charged(label: str, call):
        before = ran()
        try:
            return call()
        finally:
            spent[label] += ran() - before
            calls[label] += 1

    execute, commit, rollback = psycopg.Cursor.execute, psycopg.Connection.commit, psycopg.Connection.rollback
    lean = sql._Lean.execute  # the hot paths' prepared statements, past psycopg's cursor
    psycopg.Cursor.execute = lambda self, query, params=None, **kw: charged(
        " ".join(str(query).split())[:100], lambda: execute(self, query, params, **kw))
    sql._Lean.execute = lambda self, query, params=None: charged(
        " ".join(str(query).split())[:100], lambda: lean(self, query, params))
    psycopg.Connection.commit = lambda self: charged("COMMIT", lambda: commit(self))
    psycopg.Connection.rollback = lambda self: charged("ROLLBACK", lambda: rollback(self))
    start = ran()
    try:
        for i in range(orders):
            checkout(10 + i)
    finally:
        psycopg.Cursor.execute, psycopg.Connection.commit, psycopg.Connection.rollback = execute, commit, rollback
        sql._Lean.execute = lean
    total = ran() - start
    for label, ns in spent.most_common():
        print(f"{ns / orders / 1000:8.1f} us/order  x{calls[label] / orders:.1f}  {label}")
    print(f"backend CPU {total / orders / 1000:.1f} us/order, {sum(spent.values()) / max(total, 1):.0%} of it inside round trips")


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of the PostgreSQL backend ``pid``, when it runs on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
