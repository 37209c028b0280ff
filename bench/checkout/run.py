"""Checkout benchmark: 200 concurrent buyers on 50 units of one product, beside a naive checkout.

Creates and drops its own database (karavan_bench_checkout), never the demo or test one. Seeds the
reference data, a Chinese seller on the cn-kz storefront (stock bonded in Almaty, prices in KZT),
a hot product with ``--units`` units per turn, ``--uncontended`` more products with stock, and
buyers with funded KZT wallets (``payments.services.wallet_top_up``) and API tokens. Then each
buyer is a task on one queue that ``--workers`` processes (forked; each closes the parent's
connection and opens its own, and warms up) take from, timed from when all are warm; a task reads
the buyer by its token as the API's authentication does
(``core.api.authentication.TokenAuthentication``), then:

1. contended: ``--buyers`` buyers each ``order_place`` 1 unit of the hot product, then ``order_pay``;
2. baseline: the same buyers through a naive checkout written here (one transaction:
   ``SELECT ... FOR UPDATE`` on a counter row, decrement if > 0, insert an order row);
3. uncontended: ``--uncontended`` orders, each on its own product, place + pay.

The three runs make a turn, and ``--turns`` turns run one after the other (three by default), each
contended run on a hot product of its own, each uncontended run on the same products and buyers
(one unit and one payment each per turn). A run of 300 orders lasts about a second, and on a
shared VM one slow second moved a single run's rate by a fifth, so each figure is the median of
its turns (every turn is printed too), as bench/ledger alternates its turns with pgbench's.

Prints orders/s and p50/p95/p99 latency (place + pay, measured in the worker), the ratio to the
naive baseline and the targets (bench/README.md), then checks the invariants of each contended run
(exactly ``--units`` orders, available stock 0, no negative wallet, escrow held = paid totals).
Asserts nothing about timings; exits 1 when an invariant fails.

    .venv/bin/python bench/checkout/run.py [--buyers 200] [--units 50] [--uncontended 300] [--workers 8] [--turns 3] [--keep]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import scratch  # noqa: E402 - after the path

DB = os.environ.get("CHECKOUT_BENCH_DB", "karavan_bench_checkout")

STOREFRONT = "cn-kz"
WAREHOUSE = "ALA"
PRICE = "5000.00"  # KZT: well under the 200 EUR personal-parcel allowance, so no duty, one cheap quote
FUNDS = "1000000.00"
# Kazakhstan's customs need the recipient's IIN (core.identity): one with a valid check digit.
SHIP_TO = {"country": "KZ", "city": "Almaty", "address": "Abay Ave 10, apt 5", "postal_code": "050000",
           "name": "Aigerim Nurlanovna", "phone": "+7 701 123 4567", "id_number": "900307400102"}
TARGET_P99_MS = 50.0
TARGET_UNCONTENDED_RATE = 300.0
WAIT_S = 600  # for the workers to get warm, and for their answers


# --- seeding -------------------------------------------------------------------------------------


def seed(buyers: int, units: int, uncontended: int, turns: int = 1) -> dict:
    """Reference data, one seller on cn-kz, ``turns`` hot products (``units`` each in ALA),
    ``uncontended`` products with 10 units each, ``buyers + uncontended`` buyers with funded KZT
    wallets, and the naive baseline's two tables. Returns the ids the runs need."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from core.access import SYSTEM_ACTOR
    from core.models import Company, CompanyMember
    from core.money import Money
    from core.taxids import cn_make
    from marketplace import services
    from marketplace.models import Storefront, StorefrontMembership
    from payments import services as pay_services
    from payments.interface import Owner
    from payments.models import MAY_GO_NEGATIVE, Account
    from warehouses import services as wh_services

    scratch.migrate()
    User = get_user_model()

    seller = User.objects.create_user("bench_seller", password=None)
    seller.groups.add(Group.objects.get_or_create(name="seller")[0])
    company = Company.objects.create(name="Bench Bright Electronics", country_id="CN", tax_id=cn_make("91110000600000001"),
                                     verification=Company.Verification.VERIFIED)
    CompanyMember.objects.create(company=company, user=seller, role=CompanyMember.Role.OWNER)
    storefront = Storefront.objects.get(code=STOREFRONT)
    membership = services.storefront_join_request(company=company, storefront=storefront, actor=SYSTEM_ACTOR)
    services.storefront_membership_decide(membership=membership, to=StorefrontMembership.Status.APPROVED, actor=SYSTEM_ACTOR)
    currency = storefront.currency_id

    def product(code: str, stock: int) -> int:
        p = services.product_create(
            company=company, actor=SYSTEM_ACTOR, sku_code=f"BENCH-{code}", category="phones", hs_code="851713",
            origin_country="CN", net_weight_g=300, gross_weight_g=350,
            translations={"en": {"title": f"Bench phone {code}", "description": ""}},
            prices={STOREFRONT: Money.of(PRICE, currency)}, status="active",
        )
        wh_services.stock_receive(warehouse=WAREHOUSE, sku_id=p.sku_id, quantity=stock, bond_status="bonded",
                                  reference="bench-seed", actor=SYSTEM_ACTOR)
        return p.pk

    hot = [product(f"HOT-{turn}", units) for turn in range(turns)]
    spread = [product(f"{i + 1:05d}", 10) for i in range(uncontended)]
    warm = product("99999", 100)  # each worker's first checkout, before the clock (worker_init)

    buyer_group = Group.objects.get_or_create(name="buyer")[0]
    users = User.objects.bulk_create([User(username=f"bench_buyer{i:04d}", password="!") for i in range(buyers + uncontended + 1)])
    buyer_group.user_set.add(*users)
    tokens = Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users])
    for u in users:
        pay_services.wallet_top_up(owner=Owner.user(u), amount=Money.of(FUNDS, currency), provider="simulator",
                            provider_event_id=f"bench-{u.pk}", actor=SYSTEM_ACTOR)

    # The escrow shards in the currency, open as on a platform that has taken a few payments in it
    # (the first payment into a shard opens its account, through the general path: a one-off).
    Account.objects.bulk_create([
        Account(owner_kind="platform", owner_id=shard, kind="escrow", currency_id=currency, balance_minor=0,
                allow_negative="escrow" in MAY_GO_NEGATIVE)
        for shard in range(pay_services.PLATFORM_SHARDS)
    ], ignore_conflicts=True)

    with connection.cursor() as cur:
        cur.execute("CREATE TABLE bench_naive_stock (id int PRIMARY KEY, units int NOT NULL)")
        cur.execute("CREATE TABLE bench_naive_order (id bigserial PRIMARY KEY, buyer_id bigint NOT NULL, "
                    "quantity int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")
        cur.execute("INSERT INTO bench_naive_stock VALUES (1, %s)", [units])
        cur.execute("ANALYZE")
    ids = [u.pk for u in users]
    keys = [t.key for t in tokens]
    return {"hot": hot, "spread": spread, "contended_buyers": ids[:buyers], "contended_keys": keys[:buyers],
            "spread_keys": keys[buyers:-1], "warm": (keys[-1], warm), "currency": currency}


# --- workers (run in the forked processes) --------------------------------------------------------


def worker_init(warm: tuple[str, int] | None = None) -> None:
    """A forked worker: drop the parent's connection (never share it), open its own, warm caches.

    With ``warm`` (a buyer's API token, a product), one landed-cost quote and one checkout (place + pay) of that
    product, which only warming uses, load what a serving process has loaded after its first
    requests: the customs rules' memo, Babel's locale data, the translation catalogues, the
    prepared statements, the Fernet key, the broker's connection. Without it each worker's first
    checkout paid that once (a quarter to a whole second) and the p99 of a few hundred orders
    measured eight cold starts, not the checkout."""
    from multiprocessing.util import Finalize

    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    from core.api.authentication import TokenAuthentication
    from orders.models import Order
    from orders.services import order_pay, order_place, order_quote

    connections.close_all()  # the parent closed its own before forking: nothing shared is left open
    Finalize(None, connections.close_all, exitpriority=10)  # and this process's own, when it ends

    ContentType.objects.get_for_model(Order)
    if warm is not None:
        buyer, _token = TokenAuthentication().authenticate_credentials(warm[0])
        order_quote(buyer=buyer, storefront=STOREFRONT, lines=[{"product": warm[1], "quantity": 1}],
                    country=SHIP_TO["country"])
        order = order_place(buyer=buyer, storefront=STOREFRONT, lines=[{"product": warm[1], "quantity": 1}],
                            ship_to=dict(SHIP_TO))
        order_pay(order=order, actor=buyer)
    # What the process has loaded, and what it inherited from the parent's seeding, frozen out of the
    # garbage collector as a serving process freezes what it loaded (config/wsgi.py, config/celery.py):
    # otherwise the first full collection walked the inherited heap, the eight workers at once, and
    # put about 0.6 s into every worker's 30th order, the p99.
    gc.collect()
    gc.freeze()


def karavan_checkout(args: tuple[str, int]) -> tuple[str, float, float, float]:
    """order_place 1 unit of ``product_id`` then order_pay, for the buyer whose API token is ``key``,
    read as an API request's authentication reads it (not timed, as a request's latency here starts
    once it is authenticated): (outcome, place ms, pay ms, total ms)."""
    key, product_id = args
    from core.api.authentication import TokenAuthentication
    from core.errors import DomainError
    from orders.services import order_pay, order_place

    buyer, _token = TokenAuthentication().authenticate_credentials(key)
    t0 = time.perf_counter()
    try:
        order = order_place(buyer=buyer, storefront=STOREFRONT, lines=[{"product": product_id, "quantity": 1}],
                            ship_to=dict(SHIP_TO))
    except DomainError as exc:
        t = (time.perf_counter() - t0) * 1000
        return f"refused:{exc.code}", t, 0.0, t
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        t = (time.perf_counter() - t0) * 1000
        return f"error:place:{type(exc).__name__}:{exc}"[:200], t, 0.0, t
    t1 = time.perf_counter()
    try:
        order_pay(order=order, actor=buyer)
        outcome = "paid"
    except DomainError as exc:
        outcome = f"pay_refused:{exc.code}"
    except Exception as exc:  # noqa: BLE001
        outcome = f"error:pay:{type(exc).__name__}:{exc}"[:200]
    t2 = time.perf_counter()
    return outcome, (t1 - t0) * 1000, (t2 - t1) * 1000, (t2 - t0) * 1000


def naive_checkout(args: tuple[int, int]) -> tuple[str, float, float, float]:
    """The baseline: lock the counter row, decrement if there is stock, insert the order, commit."""
    buyer_id, _product = args
    from django.db import connection, transaction

    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT units FROM bench_naive_stock WHERE id = 1 FOR UPDATE")
        (units,) = cur.fetchone()
        if units > 0:
            cur.execute("UPDATE bench_naive_stock SET units = units - 1 WHERE id = 1")
            cur.execute("INSERT INTO bench_naive_order (buyer_id, quantity) VALUES (%s, 1)", [buyer_id])
            outcome = "paid"
        else:
            outcome = "refused:insufficient_stock"
    t = (time.perf_counter() - t0) * 1000
    return outcome, t, 0.0, t


# --- runs ------------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:
        return (samples[0],) * 3 if samples else (float("nan"),) * 3
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49], qs[94], qs[98]


def _serve(func, warm, tasks, results, gates) -> None:
    """A worker process: warm up, wait for the others, then take tasks from the shared queue, as a
    serving process takes requests from its listening socket, until the end marker (None); send
    back (results, first start, last end), and keep the connection open until the parent has read
    the machine's CPU (a closed connection's backend takes its CPU time with it)."""
    worker_init(warm)
    start, finish = gates
    start.wait()
    began = time.monotonic()
    done = []
    while (task := tasks.get()) is not None:
        done.append(func(task))
    results.put((done, began, time.monotonic()))
    finish.wait()


def run(label: str, func, tasks: list[tuple], workers: int, warm: tuple[str, int] | None = None) -> dict:
    """``tasks`` through ``func`` in ``workers`` processes, timed from when every one is warm.

    The workers take the tasks from one queue themselves: with a pool handing out each task and
    its answer through the parent (``concurrent.futures``), the parent's pickling and its threads'
    wake-ups, on the same two cores, were measured to cost the checkout about 15 % of its rate
    (bench/checkout/README.md, eleventh round), a cost no server in front of the services has.
    A worker that dies (or never gets warm) fails the run after ``WAIT_S`` instead of hanging it."""
    from django.db import connections

    connections.close_all()  # nothing open to inherit
    ctx = mp.get_context("fork")
    queue, answers = ctx.Queue(), ctx.Queue()
    gates = (ctx.Barrier(workers + 1, timeout=WAIT_S), ctx.Barrier(workers + 1, timeout=WAIT_S))
    for task in [*tasks, *[None] * workers]:
        queue.put(task)
    procs = [ctx.Process(target=_serve, args=(func, warm, queue, answers, gates)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    gates[0].wait()  # every worker connected and warm
    cpu = _cpu_seconds()
    served = [answers.get(timeout=WAIT_S) for _ in procs]
    cpu = {k: (v - cpu[k]) / len(tasks) * 1000 for k, v in _cpu_seconds().items()}
    gates[1].wait()
    for proc in procs:
        proc.join()
    queue.close()
    elapsed = max(end for _done, _began, end in served) - min(began for _done, began, _end in served)
    results = [r for done, _began, _end in served for r in done]
    outcomes = Counter(r[0] for r in results)
    paid = outcomes.get("paid", 0)
    ok_latency = [r[3] for r in results if r[0] == "paid"]
    all_latency = [r[3] for r in results]
    return {
        "label": label, "elapsed": elapsed, "outcomes": outcomes, "paid": paid,
        "rate": paid / elapsed, "attempts_rate": len(results) / elapsed,
        "all": percentiles(all_latency), "ok": percentiles(ok_latency),
        "place": percentiles([r[1] for r in results if r[0] == "paid"]),
        "pay": percentiles([r[2] for r in results if r[0] == "paid"]),
        "cpu_ms": cpu,
    }


def median_run(runs: list[dict]) -> dict:
    """One run's figures, each the median of ``runs``' (the same run in several turns)."""
    middle = statistics.median
    return {
        "label": runs[0]["label"], "elapsed": middle(r["elapsed"] for r in runs),
        "outcomes": sum((r["outcomes"] for r in runs), Counter()), "paid": middle(r["paid"] for r in runs),
        "rate": middle(r["rate"] for r in runs), "attempts_rate": middle(r["attempts_rate"] for r in runs),
        **{k: tuple(middle(r[k][i] for r in runs) for i in range(3)) for k in ("all", "ok", "place", "pay")},
        "cpu_ms": {k: middle(r["cpu_ms"][k] for r in runs) for k in runs[0]["cpu_ms"]},
    }


def naive_reset(units: int) -> None:
    """The naive baseline's counter back to ``units`` and its orders gone, for the next turn."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("UPDATE bench_naive_stock SET units = %s WHERE id = 1", [units])
        cur.execute("DELETE FROM bench_naive_order")


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the whole machine (every core, not idle or waiting on I/O) and by
    its PostgreSQL processes, from /proc (zeros where there is no /proc). Taken around a run, they say
    what one task costs the machine, wherever it is spent, and so the rate the cores allow."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return {"machine": 0.0, "postgres": 0.0}
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    postgres = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat.rsplit(")", 1)[1].split()
        if name == "postgres":
            postgres += int(rest[11]) + int(rest[12])
    return {"machine": (user + nice + system + irq + softirq + steal) / tick, "postgres": postgres / tick}


# --- checks ----------------------------------------------------------------------------------------


def check_contended(hot_product: int, units: int, currency: str) -> list[tuple[str, bool, str]]:
    from django.db import connection
    from django.db.models import F, Sum

    from marketplace.models import Product
    from orders.models import Order, OrderLine
    from payments.models import EscrowHold
    from warehouses.models import StockLevel

    sku = Product.objects.get(pk=hot_product).sku_id
    order_ids = set(OrderLine.objects.filter(product_id=hot_product).values_list("order_id", flat=True))
    orders = Order.objects.filter(pk__in=order_ids)
    units_ordered = OrderLine.objects.filter(product_id=hot_product).aggregate(n=Sum("quantity"))["n"] or 0
    paid = orders.filter(status="paid")
    levels = StockLevel.objects.filter(sku_id=sku)
    on_hand = sum(lv.on_hand for lv in levels)
    reserved = sum(lv.reserved for lv in levels)
    available = on_hand - reserved
    paid_total = paid.aggregate(t=Sum("total_minor"))["t"] or 0
    refs = [f"order:{pk}" for pk in order_ids]
    held = (EscrowHold.objects.filter(reference__in=refs, status="held")
            .aggregate(t=Sum(F("amount_minor") - F("refunded_minor") - F("released_minor")))["t"] or 0)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), coalesce(min(balance_minor), 0) FROM payments_account "
                    "WHERE kind = 'wallet' AND balance_minor < 0")
        negative, lowest = cur.fetchone()
        cur.execute("SELECT count(*) FROM (SELECT txn_id, currency FROM payments_entry GROUP BY txn_id, currency "
                    "HAVING sum(amount_minor) <> 0) t")
        unbalanced = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM warehouses_stocklevel WHERE reserved > on_hand OR reserved < 0 OR on_hand < 0")
        bad_levels = cur.fetchone()[0]
        cur.execute("SELECT units, (SELECT count(*) FROM bench_naive_order) FROM bench_naive_stock WHERE id = 1")
        naive_left, naive_orders = cur.fetchone()
    return [
        (f"exactly {units} orders on the hot product", orders.count() == units == units_ordered,
         f"{orders.count()} orders, {units_ordered} units"),
        (f"all {units} paid", paid.count() == units, f"{paid.count()} paid"),
        ("zero oversell: available stock 0", available == 0 and reserved == on_hand == units,
         f"on hand {on_hand}, reserved {reserved}, available {available}"),
        ("no stock level with reserved > on hand or negative", bad_levels == 0, f"{bad_levels} bad rows"),
        ("no negative wallet", negative == 0, f"{negative} negative (lowest {lowest})"),
        ("escrow held = sum of paid totals", held == paid_total,
         f"held {held / 100:,.2f} {currency}, paid {paid_total / 100:,.2f} {currency}"),
        ("every ledger transaction balanced", unbalanced == 0, f"{unbalanced} unbalanced"),
        (f"naive baseline: exactly {units} orders, counter 0", naive_orders == units and naive_left == 0,
         f"{naive_orders} orders, counter {naive_left}"),
    ]


# --- main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--uncontended", type=int, default=300)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--turns", type=int, default=3, help="turns of the three runs; each figure is their median")
    parser.add_argument("--keep", action="store_true", help="leave the database for inspection")
    parser.add_argument("--json", help="also write the figures to this file (bench/run.py reads it)")
    args = parser.parse_args()

    failed = False
    with scratch.database(DB, keep=args.keep):
        t = time.perf_counter()
        ids = seed(args.buyers, args.units, args.uncontended, args.turns)
        print(f"seeded {args.turns} + {args.uncontended} products on {STOREFRONT} ({WAREHOUSE}) and "
              f"{args.buyers + args.uncontended} funded buyers in {time.perf_counter() - t:.1f} s")
        print(f"{os.cpu_count()} CPUs; {args.workers} worker processes (forked, one connection each); "
              f"one task per buyer; latency = place + pay, in the worker; {args.turns} turns, each figure "
              "their median\n")

        turns: dict[str, list[dict]] = {"contended": [], "naive": [], "uncontended": []}
        checks = []
        for turn, hot in enumerate(ids["hot"], 1):
            turns["contended"].append(run(f"Karavan, {args.buyers} buyers on {args.units} units", karavan_checkout,
                                          [(k, hot) for k in ids["contended_keys"]], args.workers, ids["warm"]))
            turns["naive"].append(run(f"naive FOR UPDATE, {args.buyers} on {args.units}", naive_checkout,
                                      [(b, 0) for b in ids["contended_buyers"]], args.workers))
            checks.append((turn, check_contended(hot, args.units, ids["currency"])))
            naive_reset(args.units)
            turns["uncontended"].append(run(f"Karavan, {args.uncontended} orders / {args.uncontended} products",
                                       karavan_checkout, list(zip(ids["spread_keys"], ids["spread"], strict=True)),
                                       args.workers, ids["warm"]))
            print(f"turn {turn}:")
            for r in (runs[-1] for runs in turns.values()):
                print(f"  {r['label']}: {dict(sorted(r['outcomes'].items()))} in {r['elapsed']:.2f} s, "
                      f"{r['rate']:.0f} orders/s, p99 {r['all'][2]:.1f} ms")
        contended, naive, spread = (median_run(turns[k]) for k in ("contended", "naive", "uncontended"))
        print()
        head = f"{'run':46} {'orders/s':>9} {'tries/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p99/naive':>10}"
        print(head)
        print("-" * len(head))
        base_p99 = naive["all"][2]
        for r, lat, note in ((contended, "all", "every attempt"), (contended, "ok", "paid orders only"),
                             (naive, "all", "every attempt"), (spread, "all", "every attempt")):
            p50, p95, p99 = r[lat]
            print(f"{r['label'] + ' (' + note + ')':46} {r['rate']:9.1f} {r['attempts_rate']:8.1f} "
                  f"{p50:8.1f} {p95:8.1f} {p99:8.1f} {p99 / base_p99:10.1f}")
        print()
        p = contended["place"], contended["pay"]
        print(f"contended paid orders, split: order_place p50/p99 {p[0][0]:.1f}/{p[0][2]:.1f} ms, "
              f"order_pay p50/p99 {p[1][0]:.1f}/{p[1][2]:.1f} ms")
        p = spread["place"], spread["pay"]
        print(f"uncontended, split: order_place p50/p99 {p[0][0]:.1f}/{p[0][2]:.1f} ms, "
              f"order_pay p50/p99 {p[1][0]:.1f}/{p[1][2]:.1f} ms")
        for r in (contended, spread):
            c = r["cpu_ms"]
            if c["machine"]:
                print(f"{r['label']}: {c['machine']:.1f} ms of machine CPU per attempt ({c['postgres']:.1f} in "
                      f"PostgreSQL, {c['machine'] - c['postgres']:.1f} in the workers and the rest): the "
                      f"{os.cpu_count()} cores allow at most {os.cpu_count() * 1000 / c['machine']:.0f}/s")
        print(f"ratio to naive: contended attempts/s {contended['attempts_rate'] / naive['attempts_rate']:.2f}x, "
              f"uncontended orders/s vs naive attempts/s {spread['rate'] / naive['attempts_rate']:.2f}x")
        print()
        print(f"{'target (bench/README.md)':46} {'goal':>12} {'measured':>12}")
        rows = [
            ("p99, contended (every attempt)", f"< {TARGET_P99_MS:.0f} ms", f"{contended['all'][2]:.1f} ms",
             contended["all"][2] < TARGET_P99_MS),
            ("p99, uncontended", f"< {TARGET_P99_MS:.0f} ms", f"{spread['all'][2]:.1f} ms", spread["all"][2] < TARGET_P99_MS),
            ("orders/s, uncontended", f">= {TARGET_UNCONTENDED_RATE:.0f}/s", f"{spread['rate']:.1f}/s",
             spread["rate"] >= TARGET_UNCONTENDED_RATE),
        ]
        for name, goal, measured, met in rows:
            print(f"{name:46} {goal:>12} {measured:>12}  {'met' if met else 'NOT met'}")
        print()
        for turn, results in checks:
            print(f"invariants, contended run of turn {turn}:")
            for name, ok, detail in results:
                failed |= not ok
                print(f"  [{'ok' if ok else 'FAIL'}] {name}: {detail}")
        paid = [r["paid"] for r in turns["uncontended"]]
        spread_ok = all(n == args.uncontended for n in paid)
        failed |= not spread_ok
        print(f"  [{'ok' if spread_ok else 'FAIL'}] uncontended: all {args.uncontended} placed and paid in every turn: {paid}")
        errors = [o for runs in turns.values() for r in runs for o in r["outcomes"] if o.startswith("error")]
        if errors:
            failed = True
            print("  [FAIL] unexpected errors:", errors)
        if args.json:
            def figures(r):
                return {"orders_per_s": r["rate"], "attempts_per_s": r["attempts_rate"], "paid": r["paid"],
                        "p50_ms": r["all"][0], "p95_ms": r["all"][1], "p99_ms": r["all"][2],
                        "place_p50_ms": r["place"][0], "pay_p50_ms": r["pay"][0],
                        "cpu_ms_per_attempt": r["cpu_ms"]["machine"]}
            Path(args.json).write_text(json.dumps({
                "contended": figures(contended), "naive": figures(naive), "uncontended": figures(spread),
                "turns": {k: [figures(r) for r in runs] for k, runs in turns.items()},
                "invariants": not failed, "units": args.units}))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
