"""Parcel pipeline benchmark: order status transitions per second through Celery and PostgreSQL,
beside the rate of a Celery no-op task (``core.ping``) drained by the same worker in the same run.

Creates and drops its own database (karavan_bench_parcels) and uses its own Redis database
(``redis://127.0.0.1:6379/13``, flushed before and after), never the demo or test ones. Seeds
``--orders`` orders in ``shipped`` per batch size (bulk inserts, checkout bypassed) with their escrow
holds (set-based SQL: one top-up and one hold transaction for all of them, one EscrowHold row per
order, so that the ledger invariants hold), then starts a real worker as a subprocess:

    celery -A config worker -Q marketplace,default --concurrency 2 --pool prefork -l WARNING

(KARAVAN_ENV=demo with DATABASE_URL, CELERY_BROKER_URL and REDIS_URL pointing at the scratch
database and Redis, DEBUG off, MARKETPLACE_TRACKING_DELAY_* = 0).

* baseline: ``--pings`` ``core.ping`` tasks are queued before the worker starts; timed from the
  first message the worker takes until the queue and Redis' unacked set are empty;
* pipeline: ``marketplace.parcels_step(ids, "shipped")`` tasks of ``--batch`` ids each, as the sweep
  sends them; each task moves its orders one step and sends the next step's task. Timed from the
  first send until every order is ``delivered`` (a COUNT every ``--poll`` seconds). All four
  transitions are counted: shipped→in_transit→at_customs→cleared (batched, three statements per
  batch) and cleared→delivered (per order: escrow released to the seller minus commission).

Then checks: every order delivered, exactly 4 TransitionEvents per order (the expected four, none
twice), every escrow hold released, the ledger balanced. Prints figures; asserts nothing about timings.

    .venv/bin/python bench/parcels/run.py [--orders 20000] [--pings 5000] [--batch 500,100] [--keep]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import scratch  # noqa: E402 - after the path

DB = os.environ.get("PARCELS_BENCH_DB", "karavan_bench_parcels")
DATABASE_URL = scratch.url(DB)
REDIS_URL = os.environ.get("PARCELS_BENCH_REDIS", "redis://127.0.0.1:6379/13")

MUST, AIM = 625, 2500  # bench/README.md, targets: "parcel pipeline"
STOREFRONT, WAREHOUSE, COUNTRY, CURRENCY = "cn-kz", "ALA", "KZ", "KZT"  # route ALA>KZ: customs at the warehouse
CITIES = ["Almaty", "Astana", "Shymkent"]  # three delivery places: each task groups its batch by place
GOODS, SHIPPING = 1_000_000, 150_000  # minor units (10,000.00 + 1,500.00 KZT)
STEPS = [("shipped", "in_transit"), ("in_transit", "at_customs"), ("at_customs", "cleared"), ("cleared", "delivered")]


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL)


# --- seeding ----------------------------------------------------------------------------------------


def seed(orders: int, batches: list[int]) -> list[tuple[int, int]]:
    """``orders`` shipped orders per batch size, each with its escrow hold; returns their id ranges."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from core.models import Company
    from marketplace.models import Storefront
    from orders.models import Order

    scratch.migrate()
    buyer = get_user_model().objects.create(username="bench_buyer", password="!")
    company = Company.objects.create(name="Bench Seller", country_id="CN", tax_id="BENCH000001", verification="verified")
    storefront = Storefront.objects.get(code=STOREFRONT)
    assert storefront.currency_id == CURRENCY
    now = timezone.now()
    ranges = []
    for b in batches:
        created = Order.objects.bulk_create([
            Order(buyer=buyer, storefront=storefront, company=company, status="shipped", currency_id=CURRENCY,
                  goods_minor=GOODS, shipping_minor=SHIPPING, taxes_minor=0, total_minor=GOODS + SHIPPING,
                  source_warehouse=WAREHOUSE, ship_to_country_id=COUNTRY, ship_to_city=CITIES[i % len(CITIES)],
                  ship_to_address="1 Bench street", ship_to_name="Bench Buyer", ship_to_phone="+77000000000",
                  tracking_numbers=[f"BENCH{b}-{i}"], placed_at=now, paid_at=now, shipped_at=now)
            for i in range(orders)], batch_size=5000)
        ids = [o.pk for o in created]
        lo, hi = min(ids), max(ids)
        assert hi - lo + 1 == orders, "orders of one batch size are not contiguous"
        ranges.append((lo, hi))
    total = orders * len(batches) * (GOODS + SHIPPING)
    with transaction.atomic(), connection.cursor() as cur:
        # Money in escrow, as checkout would have left it: a top-up of the buyer's wallet from the
        # provider's clearing account, then one hold transaction moving it all into escrow (one
        # EscrowHold row per order references it). Balanced; balances equal their entries.
        cur.execute("INSERT INTO payments_account (owner_kind, owner_id, kind, currency, balance_minor, allow_negative, created_at) "
                    "VALUES ('platform', 0, 'provider_clearing', %s, %s, true, %s), ('user', %s, 'wallet', %s, 0, false, %s), "
                    "('platform', 0, 'escrow', %s, %s, false, %s) RETURNING id",
                    [CURRENCY, -total, now, buyer.pk, CURRENCY, now, CURRENCY, total, now])
        clearing, wallet, escrow = (row[0] for row in cur.fetchall())
        txn = {}
        for kind in ("top_up", "escrow_hold"):
            cur.execute("INSERT INTO payments_transaction (kind, reference, idempotency_key, fingerprint, actor_label, created_at, memo) "
                        "VALUES (%s, %s, %s, '', 'bench', %s, '{}') RETURNING id", [kind, f"bench:{kind}", f"bench:{kind}", now])
            txn[kind] = cur.fetchone()[0]
        cur.execute("INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at) VALUES "
                    "(%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s)",
                    [txn["top_up"], clearing, CURRENCY, -total, -total, now,
                     txn["top_up"], wallet, CURRENCY, total, total, now,
                     txn["escrow_hold"], wallet, CURRENCY, -total, 0, now,
                     txn["escrow_hold"], escrow, CURRENCY, total, total, now])
        cur.execute("INSERT INTO payments_escrowhold (reference, payer_kind, payer_id, currency, amount_minor, refunded_minor, "
                    "released_minor, commission_minor, payee_kind, payee_id, status, hold_txn_id, created_at, updated_at) "
                    "SELECT 'order:' || id, 'user', buyer_id, currency_id, total_minor, 0, 0, 0, '', NULL, 'held', %s, %s, %s "
                    "FROM marketplace_order", [txn["escrow_hold"], now, now])
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return ranges


# --- the worker ---------------------------------------------------------------------------------------


def worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DJANGO_SETTINGS_MODULE"}}
    env.update({
        # demo: test would change other defaults; the URLs below point it at the scratch database and Redis
        "KARAVAN_ENV": "demo", "DEBUG": "0", "LOG_LEVEL": "WARNING",
        "DATABASE_URL": DATABASE_URL, "CELERY_BROKER_URL": REDIS_URL, "REDIS_URL": REDIS_URL,
        "MARKETPLACE_TRACKING_AUTOSTART": "1",
        "MARKETPLACE_TRACKING_DELAY_SHIPPED": "0", "MARKETPLACE_TRACKING_DELAY_IN_TRANSIT": "0",
        "MARKETPLACE_TRACKING_DELAY_AT_CUSTOMS": "0", "MARKETPLACE_TRACKING_DELAY_CLEARED": "0",
    })
    return env


def start_worker(concurrency: int, log) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", "marketplace,default",
           "--concurrency", str(concurrency), "--pool", "prefork", "-l", "WARNING", "-n", "parcels-bench@%h"]
    return subprocess.Popen(cmd, cwd=ROOT, env=worker_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_worker(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # warm shutdown
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the worker and its pool children only
        proc.wait(timeout=5)


def pending(r, queues=("default", "marketplace")) -> int:
    """Messages queued (every priority list of the queues) plus those taken but not yet acked."""
    n = r.hlen("unacked")
    for q in queues:
        for key in r.scan_iter(match=f"{q}*", count=100):
            if r.type(key) == b"list":
                n += r.llen(key)
    return n


def check_alive(proc: subprocess.Popen, log_path: str) -> None:
    if proc.poll() is not None:
        raise RuntimeError(f"the worker exited ({proc.returncode}):\n" + Path(log_path).read_text()[-3000:])


# --- runs ---------------------------------------------------------------------------------------------


def baseline(r, pings: int, concurrency: int, log, log_path: str, timeout: float) -> tuple[float, float, subprocess.Popen]:
    """Queue ``pings`` no-op tasks, start the worker, time the drain from its first take."""
    from core.tasks import ping

    for _ in range(pings):
        ping.apply_async()
    queued = r.llen("default")
    assert queued == pings, f"{queued} pings queued, {pings} sent"
    proc = start_worker(concurrency, log)
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
            raise RuntimeError(f"pings not drained: {pending(r, ('default',))} left")
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    return pings / elapsed, elapsed, proc


def pipeline(r, lo: int, hi: int, batch: int, poll: float, timeout: float, proc, log_path: str) -> dict:
    """Send the first step's tasks over orders lo..hi, ``batch`` ids each; time until all delivered."""
    from django.db.models import Count

    from orders.models import Order
    from orders.tasks import parcels_step

    n = hi - lo + 1
    ids = list(range(lo, hi + 1))
    wall0 = time.time()
    started = time.monotonic()
    for i in range(0, n, batch):
        parcels_step.apply_async(args=[ids[i:i + batch], "shipped"])
    sent = time.monotonic() - started
    delivered = Order.objects.filter(pk__range=(lo, hi), status="delivered")
    last, last_change = -1, started
    while True:
        done = delivered.count()
        now = time.monotonic()
        if done == n:
            break
        if done != last:
            last, last_change = done, now
        check_alive(proc, log_path)
        if now - started > timeout or now - last_change > 30:
            counts = dict(Order.objects.filter(pk__range=(lo, hi)).order_by().values_list("status").annotate(Count("pk")))
            raise RuntimeError(f"pipeline stalled after {now - started:.1f} s: {counts}; {pending(r)} messages pending\n"
                               + Path(log_path).read_text()[-3000:])
        time.sleep(poll)
    elapsed = time.monotonic() - started
    # the last tasks ack after their commit: let the queue settle before the next run
    settle = time.monotonic() + 10
    while pending(r) and time.monotonic() < settle:
        time.sleep(0.05)
    return {"batch": batch, "orders": n, "seconds": elapsed, "rate": n * 4 / elapsed, "tasks": 4 * -(-n // batch),
            "send_seconds": sent, "wall0": wall0}


def step_times(lo: int, hi: int, wall0: float) -> list[tuple[str, int, float, float]]:
    """Per step: events, seconds from the first send to its first and to its last event."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from orders.models import Order

    ct = ContentType.objects.get_for_model(Order).pk
    with connection.cursor() as cur:
        cur.execute("SELECT to_state, count(*), extract(epoch FROM min(at)), extract(epoch FROM max(at)) FROM core_transitionevent "
                    "WHERE content_type_id = %s AND object_id BETWEEN %s AND %s GROUP BY to_state", [ct, lo, hi])
        rows = {state: (count, float(first) - wall0, float(last) - wall0) for state, count, first, last in cur.fetchall()}
    return [(to, *rows.get(to, (0, 0.0, 0.0))) for _, to in STEPS]


def check_invariants(lo: int, hi: int) -> bool:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from orders.models import Order

    ct = ContentType.objects.get_for_model(Order).pk
    n = hi - lo + 1
    expected = [f"{a}>{b}" for a, b in STEPS]
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM marketplace_order WHERE id BETWEEN %s AND %s AND status <> 'delivered'", [lo, hi])
        not_delivered = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM core_transitionevent WHERE content_type_id = %s AND object_id BETWEEN %s AND %s",
                    [ct, lo, hi])
        events = cur.fetchone()[0]
        # per order: its transitions in time order must be exactly the four steps, each once
        cur.execute("""SELECT count(*) FROM (
                         SELECT o.id, array_agg(e.from_state || '>' || e.to_state ORDER BY e.at, e.id) AS steps
                           FROM marketplace_order o LEFT JOIN core_transitionevent e
                                ON e.content_type_id = %s AND e.object_id = o.id
                          WHERE o.id BETWEEN %s AND %s GROUP BY o.id) t
                        WHERE steps IS DISTINCT FROM %s::text[]""", [ct, lo, hi, expected])
        wrong = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM (SELECT object_id, to_state FROM core_transitionevent WHERE content_type_id = %s "
                    "AND object_id BETWEEN %s AND %s GROUP BY 1, 2 HAVING count(*) > 1) d", [ct, lo, hi])
        duplicates = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM core_transitionevent WHERE content_type_id = %s AND object_id BETWEEN %s AND %s "
                    "AND to_state = 'delivered' AND place = ''", [ct, lo, hi])
        no_place = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM payments_escrowhold h JOIN marketplace_order o ON h.reference = 'order:' || o.id "
                    "WHERE o.id BETWEEN %s AND %s AND (h.status <> 'released' OR h.released_minor <> h.amount_minor)", [lo, hi])
        unreleased = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM (SELECT txn_id, currency FROM payments_entry GROUP BY txn_id, currency "
                    "HAVING sum(amount_minor) <> 0) t")
        unbalanced = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM payments_account a LEFT JOIN (SELECT account_id, sum(amount_minor) s "
                    "FROM payments_entry GROUP BY account_id) e ON e.account_id = a.id WHERE a.balance_minor <> coalesce(e.s, 0)")
        drifted = cur.fetchone()[0]
    ok = not_delivered == wrong == duplicates == no_place == unreleased == unbalanced == drifted == 0 and events == 4 * n
    print(f"  invariants: not delivered={not_delivered}, events={events:,} (want {4 * n:,}), orders without exactly the "
          f"4 steps={wrong}, duplicates={duplicates}, delivery without place={no_place}, holds not released={unreleased}, "
          f"ledger unbalanced={unbalanced}, balance≠entries={drifted} -> {'OK' if ok else 'BROKEN'}")
    return ok


# --- main ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20_000, help="orders per batch size")
    parser.add_argument("--pings", type=int, default=5_000, help="no-op tasks of the baseline")
    parser.add_argument("--batch", default="500,100", help="order ids per parcels_step task, comma-separated runs")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--poll", type=float, default=0.2, help="seconds between COUNTs of delivered orders")
    parser.add_argument("--timeout", type=float, default=1800, help="give up a run after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (and Redis db) afterwards")
    opts = parser.parse_args()
    batches = [int(b) for b in opts.batch.split(",") if b.strip()]

    r = redis_client()
    r.flushdb()
    proc = None
    log = tempfile.NamedTemporaryFile("w+", prefix="parcels-worker-", suffix=".log", delete=False)  # noqa: SIM115
    failed = False
    with scratch.database(DB, keep=opts.keep, CELERY_BROKER_URL=REDIS_URL, REDIS_URL=REDIS_URL):
        try:
            print(f"load average {os.getloadavg()[0]:.2f}; creating {DB}, migrating, seeding {opts.orders:,} shipped orders "
                  f"× {len(batches)} batch size(s) with escrow holds ...")
            t = time.perf_counter()
            ranges = seed(opts.orders, batches)
            print(f"  seeded in {time.perf_counter() - t:.1f} s (route {WAREHOUSE}>{COUNTRY}, storefront {STOREFRONT}, "
                  f"delivery to {len(CITIES)} cities)")

            from django.db import connections

            connections.close_all()
            print(f"worker: celery -A config worker -Q marketplace,default --concurrency {opts.concurrency} --pool prefork "
                  f"(KARAVAN_ENV=demo, broker {REDIS_URL}, tracking delays 0; log {log.name})")
            ping_rate, ping_s, proc = baseline(r, opts.pings, opts.concurrency, log, log.name, opts.timeout)
            print(f"  no-op core.ping: {opts.pings:,} tasks drained in {ping_s:.2f} s = {ping_rate:,.0f} tasks/s")

            results = []
            for batch, (lo, hi) in zip(batches, ranges, strict=True):
                res = pipeline(r, lo, hi, batch, opts.poll, opts.timeout, proc, log.name)
                results.append(res)
                print(f"  pipeline, {batch} ids/task: {res['orders']:,} orders × 4 transitions in {res['seconds']:.2f} s "
                      f"= {res['rate']:,.0f} transitions/s ({res['tasks']} tasks; first ones sent in {res['send_seconds'] * 1000:.0f} ms)")
                steps = step_times(lo, hi, res["wall0"])
                for to, count, first, last in steps:
                    span = last - first
                    rate = f"{count / span:9,.0f}/s over its span" if span > 0 else ""
                    print(f"    → {to:<11} {count:>7,} events, first at +{first:6.2f} s, last at +{last:6.2f} s  {rate}")
                cleared_last = steps[2][3]
                res["batched"] = 3 * res["orders"] / cleared_last if cleared_last > 0 else 0.0
                res["delivery"] = steps[3][1] / (steps[3][3] - steps[3][2]) if steps[3][3] > steps[3][2] else 0.0
                if not check_invariants(lo, hi):
                    failed = True
            print(f"  load average {os.getloadavg()[0]:.2f}")

            print("\nparcel pipeline (targets: bench/README.md): transitions counted: shipped→in_transit→at_customs→cleared→delivered "
                  "(4 per order,\ndelivery releasing the escrow), worker "
                  f"--concurrency {opts.concurrency} prefork, poll {opts.poll} s\n")
            print(f"{'run':40} {'rate':>18} {'÷ no-op':>8} {'must 625/s':>11} {'aim 2,500/s':>12}")
            print(f"{f'no-op core.ping ({opts.pings:,} tasks)':40} {ping_rate:>11,.0f} tasks/s {1:>7.2f}x")
            for res in results:
                label = f"pipeline, {res['batch']} ids/task ({res['orders']:,} orders)"
                print(f"{label:40} {res['rate']:>13,.0f} trans/s {res['rate'] / ping_rate:>7.2f}x "
                      f"{'yes' if res['rate'] >= MUST else 'NO':>11} {'yes' if res['rate'] >= AIM else 'no':>12}")
                print(f"{'  of which 3 batched steps (to cleared)':40} {res['batched']:>13,.0f} trans/s "
                      f"{res['batched'] / ping_rate:>7.2f}x   (3 × orders ÷ time to the last 'cleared' event)")
                print(f"{'  of which delivery (per order, escrow)':40} {res['delivery']:>13,.0f} trans/s "
                      f"{res['delivery'] / ping_rate:>7.2f}x   (orders ÷ first to last 'delivered' event)")
            print(f"{'targets':40} {'625/s must, 2,500/s aim (above the no-op rate by batching)':>60}")
        except BaseException:
            failed = True
            raise
        finally:
            stop_worker(proc)
            log.close()
            if not opts.keep:
                r.flushdb()
                if not failed:
                    os.unlink(log.name)
            print(f"(stopped the worker; {'keeping' if opts.keep else 'dropping'} {DB}"
                  f"{'' if opts.keep else ' and flushed ' + REDIS_URL}{'; worker log ' + log.name if failed or opts.keep else ''})")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
