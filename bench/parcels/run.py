"""Parcel pipeline benchmark: every order transition from ``paid`` to ``delivered`` (parcel
declarations, channels, duties, the fulfilment simulator, the carrier, the tracking timers, delivery
and the escrow release included) through a real Celery worker and PostgreSQL, beside the rate of a
Celery no-op task (``core.ping``) drained by the same worker in the same run.

Creates and drops its own database (karavan_bench_parcels) and uses its own Redis database
(``redis://127.0.0.1:6379/13``, flushed before and after; ``PARCELS_BENCH_REDIS`` changes it). For
each worker count of ``--workers`` (default ``1,2``; ``--quick``: 200 orders, 2 processes) it:

1. places ``--orders`` orders through checkout (``order_place``; not timed), half on each road:
   a phone sold from the Almaty bond to a Kazakh buyer (customs at the warehouse, then picking)
   and honey shipped from Khorgos to a Chinese buyer (picking first, customs at the crossing);
2. queues ``--pings`` no-op tasks, starts the worker
   (``celery -A config worker -Q <every queue> --concurrency N --pool prefork``, the scratch
   database and Redis, every simulator delay 0, the fulfilment simulator on, customs rejecting one
   parcel in ``--reject-every``) and times their drain from its first take: the baseline;
3. pays every order in one transaction, so that their tasks leave together at commit, and times
   the road from that commit until every order has reached an end state (delivered, or returned
   after a customs refusal); the rate counts every order transition after ``paid``;
4. checks: every order delivered or returned, its events a legal path of the order machine (each
   from the previous state, on its road, none twice, the last one its status: events =
   transitions), its escrow released (delivered) or refunded (returned), its declaration released
   or rejected, the ledger balanced (every transaction, balances = entries, each currency sums to
   zero, nothing negative), stock levels equal to their ledger.

Prints each step's rate (events ÷ first to last event of the step), the total, the ratio to the
no-op rate and the targets, then one summary line per figure (``parcels: ...``); ``--json FILE``
writes the figures for ``bench/run.py``. Asserts nothing about timings; exits 1 when an invariant
fails or the road stalls.

    .venv/bin/python bench/parcels/run.py [--orders 1000 | --quick] [--workers 1,2] [--pings 3000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import scratch  # noqa: E402 - after the path

DB = os.environ.get("PARCELS_BENCH_DB", "karavan_bench_parcels")
DATABASE_URL = scratch.url(DB)
REDIS_URL = os.environ.get("PARCELS_BENCH_REDIS", "redis://127.0.0.1:6379/13")
QUEUES = "default,payments,customs,warehouses,marketplace,orders"

MUST, AIM = 625, 2500  # bench/README.md, targets: "parcel pipeline"
END_STATES = ("delivered", "returned")
ROADS = {
    # road: storefront, warehouse, bond status of the stock, destination
    "bond": ("cn-kz", "ALA", "bonded", "KZ"),
    "border": ("kz", "KHG", "released", "CN"),
}
ORDERS_PER_BUYER = 20  # buyers' yearly allowances stay far from their limits


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def env_for_django(reject_every: int) -> dict[str, str]:
    """The settings of the bench process and of the worker: test mode (every simulator delay 0),
    the fulfilment simulator on, customs refusing one parcel in ``reject_every``."""
    return {"CELERY_BROKER_URL": REDIS_URL, "REDIS_URL": REDIS_URL, "WAREHOUSES_FULFILMENT_SIMULATOR": "1",
            "CUSTOMS_SIM_REJECT_EVERY": str(reject_every), "MARKETPLACE_TRACKING_AUTOSTART": "1", "LOG_LEVEL": "WARNING",
            # Test mode sets the customs and tracking delays to 0, not the fulfilment simulator's (5 s each).
            "WAREHOUSES_DELAY_PICK": "0", "WAREHOUSES_DELAY_PACK": "0", "WAREHOUSES_DELAY_SHIP": "0"}


# --- seeding (not timed) ----------------------------------------------------------------------------


def seed_catalogue(orders_total: int) -> dict[str, object]:
    """A Chinese phone seller on cn-kz with phones bonded in Almaty, a Kazakh honey seller on the kz
    pavilion with released honey in Khorgos; enough units for every run."""
    from core.access import SYSTEM_ACTOR
    from core.models import Company
    from core.money import Money
    from core.taxids import cn_make, kz_make
    from marketplace import services as market
    from marketplace.models import Storefront, StorefrontMembership
    from warehouses import services as wh

    kz_bin = next(v for v in (kz_make(f"{n:011d}") for n in range(10020030040, 10020030140)) if v)
    companies = {
        "bond": Company.objects.create(name="Bench Phones Ltd", country_id="CN", tax_id=cn_make("91110000600000001"),
                                       verification=Company.Verification.VERIFIED),
        "border": Company.objects.create(name="Bench Bal LLP", country_id="KZ", tax_id=kz_bin,
                                         verification=Company.Verification.VERIFIED),
    }
    products = {}
    for road, (storefront, warehouse, bond_status, _country) in ROADS.items():
        membership = market.storefront_join_request(company=companies[road], storefront=Storefront.objects.get(code=storefront),
                                                    actor=SYSTEM_ACTOR)
        market.storefront_membership_decide(membership=membership, to=StorefrontMembership.Status.APPROVED, actor=SYSTEM_ACTOR)
        currency = Storefront.objects.get(code=storefront).currency_id
        spec = {"bond": ("Bench phone", "851713", "phones", 300, "20000.00"),
                "border": ("Bench honey", "040900", "honey", 500, "88.00")}[road]
        title, hs, category, weight, price = spec
        product = market.product_create(
            company=companies[road], actor=SYSTEM_ACTOR, sku_code=f"BENCH-{road.upper()}", category=category, hs_code=hs,
            origin_country=companies[road].country_id, net_weight_g=weight, gross_weight_g=weight + 50,
            translations={"en": {"title": title, "description": ""}}, prices={storefront: Money.of(price, currency)},
            status="active")
        wh.stock_receive(warehouse=warehouse, sku_id=product.sku_id, quantity=orders_total, bond_status=bond_status,
                         reference="bench-seed", actor=SYSTEM_ACTOR)
        products[road] = product
    return products


def _ids() -> dict[str, str]:
    from stdnum.cn import ric

    from core.taxids import kz_make

    first17 = "65010219900307251"
    iin = next(v for v in (kz_make(f"900307400{s:04d}"[:11]) for s in range(1000, 2000)) if v)
    return {"CN": first17 + ric.calc_check_digit(first17 + "0"), "KZ": iin}


ADDRESS = {
    "KZ": {"country": "KZ", "city": "Almaty", "address": "Abay Ave 10", "postal_code": "050000", "name": "Aigerim Nurlanovna",
           "phone": "+7 701 123 4567"},
    "CN": {"country": "CN", "city": "Urumqi", "address": "88 Xinhua Road", "postal_code": "830002", "name": "Li Wei",
           "phone": "+86 138 0013 8000"},
}


def place_orders(run: str, n: int, products: dict) -> list[int]:
    """``n`` placed orders, alternating the two roads, each buyer funded for its orders."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from core.access import SYSTEM_ACTOR
    from core.money import Money
    from marketplace.models import Storefront
    from orders import services as orders
    from payments import services as payments
    from payments.interface import Owner

    ids_by_country = _ids()
    group = Group.objects.get_or_create(name="buyer")[0]
    buyers: dict[tuple[str, int], object] = {}
    placed = []
    for i in range(n):
        road = "bond" if i % 2 == 0 else "border"
        storefront, _warehouse, _bond, country = ROADS[road]
        key = (road, i // (2 * ORDERS_PER_BUYER))
        if key not in buyers:
            user = get_user_model().objects.create(username=f"bench-{run}-{road}-{key[1]}", password="!")
            user.groups.add(group)
            currency = Storefront.objects.get(code=storefront).currency_id
            payments.wallet_top_up(owner=Owner.user(user), amount=Money.of("10000000", currency), provider="simulator",
                                   provider_event_id=f"bench-{run}-{road}-{key[1]}", actor=SYSTEM_ACTOR)
            buyers[key] = user
        order = orders.order_place(buyer=buyers[key], storefront=storefront, lines=[{"product": products[road].pk, "quantity": 1}],
                                   ship_to={**ADDRESS[country], "id_number": ids_by_country[country]})
        assert order.road == road, f"order {order.pk} took the {order.road} road, not {road}"
        placed.append(order.pk)
    return placed


def pay_all(order_ids: list[int]) -> float:
    """Pay every order in one transaction: their tasks leave together when it commits. Returns the
    wall-clock time just before the commit (the road's start)."""
    from django.db import transaction

    from orders import services as orders
    from orders.models import Order

    with transaction.atomic():
        for order in Order.objects.filter(pk__in=order_ids).select_related("buyer").order_by("pk"):
            orders.order_pay(order=order, actor=order.buyer)
        started = time.time()
    return started


# --- the worker -------------------------------------------------------------------------------------


def worker_env(reject_every: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DJANGO_SETTINGS_MODULE"}}
    env.update({"KARAVAN_ENV": "test", "DEBUG": "0", "DATABASE_URL": DATABASE_URL, **env_for_django(reject_every)})
    return env


def start_worker(concurrency: int, reject_every: int, log) -> subprocess.Popen:
    # INFO: one line per task with its run time (task_profile reads them).
    cmd = [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", QUEUES, "--concurrency", str(concurrency),
           "--pool", "prefork", "-l", "INFO", "-n", f"parcels-bench-{concurrency}@%h"]
    return subprocess.Popen(cmd, cwd=ROOT, env=worker_env(reject_every), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_worker(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # warm shutdown
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the worker and its pool children only
        proc.wait(timeout=5)


def check_alive(proc: subprocess.Popen, log_path: str) -> None:
    if proc.poll() is not None:
        raise RuntimeError(f"the worker exited ({proc.returncode}):\n" + Path(log_path).read_text()[-3000:])


def baseline(r, pings: int, concurrency: int, reject_every: int, log, log_path: str, timeout: float):
    """Queue ``pings`` no-op tasks, start the worker, time the drain from its first take."""
    from core.tasks import ping

    for _ in range(pings):
        ping.apply_async()
    queued = r.llen("default")
    assert queued == pings, f"{queued} pings queued, {pings} sent"
    proc = start_worker(concurrency, reject_every, log)
    deadline = time.monotonic() + timeout
    while r.llen("default") == pings:
        check_alive(proc, log_path)
        if time.monotonic() > deadline:
            raise RuntimeError("the worker took no task:\n" + Path(log_path).read_text()[-3000:])
        time.sleep(0.005)
    started = time.monotonic()
    while r.llen("default") or r.hlen("unacked"):
        check_alive(proc, log_path)
        if time.monotonic() > deadline:
            raise RuntimeError("pings not drained")
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    return pings / elapsed, proc


# --- the road ---------------------------------------------------------------------------------------


def wait_road(order_ids: list[int], proc, log_path: str, timeout: float, stall: float) -> None:
    """Until every order is in an end state; fails when nothing moved for ``stall`` seconds."""
    from django.db.models import Count

    from core.models import TransitionEvent
    from orders.models import Order

    orders = Order.objects.filter(pk__in=order_ids)
    started = last_change = time.monotonic()
    last = None
    while True:
        left = orders.exclude(status__in=END_STATES).count()
        if left == 0:
            return
        events = TransitionEvent.objects.count()
        now = time.monotonic()
        if events != last:
            last, last_change = events, now
        check_alive(proc, log_path)
        if now - started > timeout or now - last_change > stall:
            counts = dict(orders.order_by().values_list("status").annotate(Count("pk")))
            raise RuntimeError(f"the road stalled after {now - started:.0f} s: {counts}\n" + Path(log_path).read_text()[-3000:])
        time.sleep(0.25)


TASK_DONE = re.compile(r"Task ([\w.]+)\[[-\w]+\] succeeded in ([\d.]+)s")


def task_profile(log_path: str, offset: int) -> list[tuple[str, int, float]]:
    """Tasks the worker ran (from its log, after ``offset``): name, count, seconds inside them."""
    seen: dict[str, list] = defaultdict(lambda: [0, 0.0])
    with open(log_path) as log:
        log.seek(offset)
        for match in TASK_DONE.finditer(log.read()):
            seen[match[1]][0] += 1
            seen[match[1]][1] += float(match[2])
    return sorted(((name, n, secs) for name, (n, secs) in seen.items()), key=lambda row: -row[2])


def step_figures(order_ids: list[int], started: float) -> dict:
    """Per machine and step: events, seconds from the road's start to its first and last event."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("""
            WITH o AS (SELECT id, 'order:' || id AS ref FROM marketplace_order WHERE id = ANY(%s)),
            ev AS (
                SELECT e.machine, e.from_state, e.to_state, e.at FROM core_transitionevent e JOIN o ON e.object_id = o.id
                 WHERE e.machine = 'order'
                UNION ALL
                SELECT e.machine, e.from_state, e.to_state, e.at FROM core_transitionevent e
                  JOIN customs_declaration d ON e.object_id = d.id JOIN o ON d.reference = o.ref WHERE e.machine = 'declaration'
                UNION ALL
                SELECT e.machine, e.from_state, e.to_state, e.at FROM core_transitionevent e
                  JOIN payments_escrowhold h ON e.object_id = h.id JOIN o ON h.reference = o.ref WHERE e.machine = 'escrow')
            SELECT machine, from_state, to_state, count(*), extract(epoch FROM min(at)), extract(epoch FROM max(at))
              FROM ev WHERE from_state NOT IN ('', 'placed') GROUP BY 1, 2, 3 ORDER BY 5""", [order_ids])
        rows = cur.fetchall()
    steps = []
    for machine, src, dst, count, first, last in rows:
        first, last = float(first) - started, float(last) - started
        steps.append({"machine": machine, "step": f"{src}→{dst}", "events": count, "first": first, "last": last,
                      "rate": count / (last - first) if last > first else None})
    return {"steps": steps}


def check_invariants(order_ids: list[int]) -> tuple[bool, str]:
    from django.db import connection

    from core.models import TransitionEvent
    from orders.models import Order
    from orders.states import ORDER_MACHINE
    from warehouses.selectors import stock_drift

    problems: list[str] = []
    orders = {o.pk: o for o in Order.objects.filter(pk__in=order_ids)}
    statuses = Counter(o.status for o in orders.values())
    not_ended = sum(n for s, n in statuses.items() if s not in END_STATES)
    if not_ended:
        problems.append(f"{not_ended} orders not delivered or returned: {dict(statuses)}")
    events = defaultdict(list)
    for e in TransitionEvent.objects.filter(machine="order", object_id__in=order_ids).order_by("at", "id"):
        events[e.object_id].append(e)
    illegal = duplicates = anonymous = 0
    transitions = 0
    for pk, order in orders.items():
        chain = events.get(pk, [])
        state = ""
        seen = set()
        for e in chain:
            step = (e.from_state, e.to_state)
            if e.from_state != state or (state and ORDER_MACHINE.find(e.from_state, e.to_state, {"road": order.road}) is None):
                illegal += 1
            if step in seen:
                duplicates += 1
            if not e.actor_label or e.at is None:
                anonymous += 1
            seen.add(step)
            state = e.to_state
        if state != order.status:
            illegal += 1
        transitions += sum(1 for e in chain if e.from_state not in ("", "placed"))
    if illegal or duplicates or anonymous:
        problems.append(f"event paths: {illegal} illegal, {duplicates} repeated, {anonymous} without actor or time")
    with connection.cursor() as cur:
        cur.execute("""SELECT count(*) FROM marketplace_order o JOIN payments_escrowhold h ON h.reference = 'order:' || o.id
                        WHERE o.id = ANY(%s) AND NOT (
                          (o.status = 'delivered' AND h.status = 'released' AND h.released_minor + h.settled_minor + h.refunded_minor = h.amount_minor)
                          OR (o.status = 'returned' AND h.status = 'refunded'))""", [order_ids])
        (escrow_wrong,) = cur.fetchone()
        cur.execute("""SELECT count(*) FROM marketplace_order o LEFT JOIN customs_declaration d ON d.reference = 'order:' || o.id
                        WHERE o.id = ANY(%s) AND NOT (
                          (o.status = 'delivered' AND d.status = 'released') OR (o.status = 'returned' AND d.status = 'rejected'))""",
                    [order_ids])
        (declaration_wrong,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM (SELECT txn_id, currency FROM payments_entry GROUP BY 1, 2 HAVING sum(amount_minor) <> 0) t")
        (unbalanced,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM payments_account a LEFT JOIN (SELECT account_id, sum(amount_minor) s FROM payments_entry "
                    "GROUP BY 1) e ON e.account_id = a.id WHERE a.balance_minor <> coalesce(e.s, 0)")
        (drifted,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM (SELECT currency FROM payments_account GROUP BY 1 HAVING sum(balance_minor) <> 0) t")
        (created,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM payments_account WHERE NOT allow_negative AND balance_minor < 0")
        (negative,) = cur.fetchone()
    if escrow_wrong:
        problems.append(f"{escrow_wrong} orders whose escrow is not released (delivered) or refunded (returned)")
    if declaration_wrong:
        problems.append(f"{declaration_wrong} orders whose declaration is not released (delivered) or rejected (returned)")
    if unbalanced or drifted or created or negative:
        problems.append(f"ledger: {unbalanced} unbalanced transactions, {drifted} balances ≠ entries, "
                        f"{created} currencies not summing to zero, {negative} negative accounts")
    drift = stock_drift()
    if drift:
        problems.append(f"stock: {len(drift)} levels differ from their ledger")
    summary = (f"{statuses.get('delivered', 0):,} delivered, {statuses.get('returned', 0):,} returned after a customs refusal; "
               f"{transitions:,} order transitions after paid = {transitions:,} events; ledger balanced; stock = its ledger"
               if not problems else "; ".join(problems))
    return not problems, summary


# --- main ---------------------------------------------------------------------------------------------


def run_one(r, concurrency: int, order_ids: list[int], opts, log, log_path: str) -> dict:
    from django.db import connections

    connections.close_all()
    proc = None
    try:
        ping_rate, proc = baseline(r, opts.pings, concurrency, opts.reject_every, log, log_path, opts.timeout)
        print(f"  no-op core.ping: {opts.pings:,} tasks = {ping_rate:,.0f} tasks/s")
        load0 = os.getloadavg()[0]
        log.flush()
        offset = os.path.getsize(log_path)
        started = pay_all(order_ids)
        wait_road(order_ids, proc, log_path, opts.timeout, opts.stall)
        figures = step_figures(order_ids, started)
    finally:
        stop_worker(proc)
    tasks = task_profile(log_path, offset)
    ok, summary = check_invariants(order_ids)
    order_steps = [s for s in figures["steps"] if s["machine"] == "order"]
    transitions = sum(s["events"] for s in order_steps)
    span = max(s["last"] for s in order_steps)
    every = sum(s["events"] for s in figures["steps"])
    return {"workers": concurrency, "orders": len(order_ids), "noop": ping_rate, "transitions": transitions,
            "seconds": span, "rate": transitions / span, "all_events": every, "all_rate": every / span,
            "steps": figures["steps"], "tasks": tasks, "invariants": ok, "summary": summary, "load": (load0, os.getloadavg()[0])}


def report(results: list[dict], opts) -> None:
    for res in results:
        w = res["workers"]
        print(f"\n--- {w} worker process{'es' if w > 1 else ''} (prefork), {res['orders']:,} orders (half per road); "
              f"load average {res['load'][0]:.2f} → {res['load'][1]:.2f} ---")
        print(f"{'step':44} {'events':>7} {'first':>7} {'last':>7} {'rate/s':>9}")
        for s in res["steps"]:
            rate = f"{s['rate']:9,.0f}" if s["rate"] else f"{'-':>9}"
            print(f"{s['machine'] + ' ' + s['step']:44} {s['events']:>7,} {s['first']:>6.1f}s {s['last']:>6.1f}s {rate}")
        print(f"order transitions after paid: {res['transitions']:,} in {res['seconds']:.1f} s = {res['rate']:,.0f}/s "
              f"({res['rate'] / res['noop']:.2f}x the no-op rate of {res['noop']:,.0f}/s); every machine's events "
              f"(declarations, escrow too): {res['all_events']:,} = {res['all_rate']:,.0f}/s")
        busy = sum(secs for _name, _n, secs in res["tasks"])
        print(f"tasks run: {sum(n for _name, n, _s in res['tasks']):,}, {busy:.0f} s inside them "
              f"({busy / res['seconds'] / res['workers']:.0%} of the worker processes' time); by time:")
        for name, n, secs in res["tasks"][:12]:
            print(f"  {name:34} {n:>6,} tasks {secs:7.1f} s  {secs / n * 1000:7.1f} ms each")
        print(f"invariants: {'OK' if res['invariants'] else 'BROKEN'}: {res['summary']}")
    print("\nsummary (targets: bench/README.md; must 625/s, aim 2,500/s and above the no-op rate)")
    for res in results:
        w = res["workers"]
        print(f"parcels: no-op core.ping, {w} worker(s): {res['noop']:,.0f} tasks/s")
        print(f"parcels: pipeline paid→delivered, {w} worker(s): {res['rate']:,.0f} transitions/s, "
              f"{res['rate'] / res['noop']:.2f}x no-op, must 625/s {'met' if res['rate'] >= MUST else 'NOT met'}, "
              f"aim 2,500/s {'met' if res['rate'] >= AIM else 'not met'}")
        print(f"parcels: invariants, {w} worker(s): {'OK' if res['invariants'] else 'BROKEN'}")
    if opts.json:
        Path(opts.json).write_text(json.dumps({
            "orders": opts.orders, "invariants": all(r["invariants"] for r in results),
            "runs": [{k: v for k, v in r.items() if k != "summary"} for r in results]}, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000, help="orders per worker count, half on each road")
    parser.add_argument("--quick", action="store_true", help="200 orders, 1,000 pings, 2 worker processes (make bench)")
    parser.add_argument("--workers", help="worker processes, one run each: 1, 2 or 1,2 (default 1,2; 2 with --quick)")
    parser.add_argument("--pings", type=int, default=3000, help="no-op tasks of the baseline")
    parser.add_argument("--reject-every", type=int, default=25, help="customs refuses one parcel in N (0: none)")
    parser.add_argument("--timeout", type=float, default=1800, help="give up a run after this many seconds")
    parser.add_argument("--stall", type=float, default=60, help="fail when no event is written for this many seconds")
    parser.add_argument("--json", help="also write the figures to this file (bench/run.py reads it)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (and Redis db) afterwards")
    opts = parser.parse_args()
    if opts.quick:
        opts.orders, opts.pings = 200, 1000
    workers = [int(w) for w in (opts.workers or ("2" if opts.quick else "1,2")).split(",") if w.strip()]

    r = redis_client()
    r.flushdb()
    log = tempfile.NamedTemporaryFile("w+", prefix="parcels-worker-", suffix=".log", delete=False)  # noqa: SIM115
    failed = False
    with scratch.database(DB, keep=opts.keep, **env_for_django(opts.reject_every)):
        try:
            print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); {DB}: migrating, seeding "
                  f"{opts.orders:,} orders × {len(workers)} run(s) through checkout ...")
            t = time.perf_counter()
            scratch.migrate()
            products = seed_catalogue(opts.orders * len(workers))
            runs = {w: place_orders(f"w{w}", opts.orders, products) for w in workers}
            print(f"  placed in {time.perf_counter() - t:.0f} s (bond: phones ALA→KZ on cn-kz; border: honey KHG→CN on kz)")
            print(f"worker: celery -A config worker -Q {QUEUES} --concurrency N --pool prefork (KARAVAN_ENV=test, "
                  f"broker {REDIS_URL}, fulfilment simulator on, every delay 0, customs refusing 1 in {opts.reject_every}; "
                  f"log {log.name})")
            results = []
            for w in workers:
                print(f"run: {w} worker process(es), {opts.orders:,} orders")
                results.append(run_one(r, w, runs[w], opts, log, log.name))
                r.flushdb()
            report(results, opts)
            failed = not all(res["invariants"] for res in results)
        except BaseException:
            failed = True
            raise
        finally:
            log.close()
            if not opts.keep:
                r.flushdb()
                if not failed:
                    os.unlink(log.name)
            print(f"({'keeping' if opts.keep else 'dropping'} {DB}{'; worker log ' + log.name if failed or opts.keep else ''})")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
