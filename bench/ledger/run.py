"""Ledger benchmark: balanced transfers per second through payments.services, beside pgbench -N.

Runs against a database it creates and drops itself (karavan_bench, pgbench in karavan_bench_pgbench),
never the demo or test database. Prints figures; asserts nothing about timings, but checks the
ledger's invariants after every run (balanced, balances equal entries, sum zero, no negative wallet).

    .venv/bin/python bench/ledger/run.py [--seconds 10] [--pgbench-seconds 10] [--pairs 3] [--workers 8] [--accounts 10000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import scratch  # noqa: E402 - after the path

DB = os.environ.get("LEDGER_BENCH_DB", "karavan_bench")
PGBENCH_DB = DB + "_pgbench"


def seed(accounts: int) -> list[int]:
    """``accounts`` users with a funded CNY wallet, booked as one balanced opening transaction."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    User = get_user_model()
    User.objects.bulk_create([User(username=f"bench{i}", password="!") for i in range(accounts)], batch_size=2000)
    ids = list(User.objects.filter(username__startswith="bench").order_by("pk").values_list("pk", flat=True))
    opening = 1_000_000_00  # a million yuan each: the 10-account runs never run dry
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("INSERT INTO payments_account (owner_kind, owner_id, kind, currency, balance_minor, allow_negative, created_at) "
                    "SELECT 'platform', 0, 'provider_clearing', 'CNY', %s, true, %s", [-opening * len(ids), now])
        cur.execute("INSERT INTO payments_account (owner_kind, owner_id, kind, currency, balance_minor, allow_negative, created_at) "
                    "SELECT 'user', u, 'wallet', 'CNY', %s, false, %s FROM unnest(%s::bigint[]) AS u", [opening, now, ids])
        cur.execute("INSERT INTO payments_transaction (kind, reference, idempotency_key, fingerprint, actor_label, created_at, memo) "
                    "VALUES ('top_up', 'bench:opening', 'bench:opening', '', 'bench', %s, '{}') RETURNING id", [now])
        txn = cur.fetchone()[0]
        cur.execute("INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at) "
                    "SELECT %s, id, currency, balance_minor, balance_minor, %s FROM payments_account", [txn, now])
    with connection.cursor() as cur:
        # fresh statistics, as autovacuum would have them in production: the planner uses the indexes
        cur.execute("ANALYZE payments_account, payments_entry, payments_transaction")
    return ids


# Set before the pool forks (a barrier cannot be pickled into a task): the workers start measuring
# together, once each has its connection, as pgbench reports its TPS without connection time.
_START: mp.synchronize.Barrier | None = None


def worker(args) -> tuple[int, int, int, float, float, float]:
    """Transfers between random pairs of ``owner_ids`` for ``seconds``: (ok, refused, batches, client
    CPU s, start, end), timed from when every worker is connected."""
    owner_ids, seconds, tag, batch = args
    from django.db import connection

    from core.errors import DomainError
    from core.money import Money
    from payments import services
    from payments.interface import Owner

    connection.close()  # never share the parent's connection after fork
    connection.ensure_connection()
    if _START is not None:
        _START.wait()
    start = time.monotonic()
    deadline = start + seconds
    cpu = time.process_time()
    rng = random.Random(tag)
    ok = refused = batches = n = 0
    amount = Money(100, "CNY")
    while time.monotonic() < deadline:
        if batch:
            reqs = []
            for _ in range(batch):
                a, b = rng.sample(owner_ids, 2)
                reqs.append(services.TransferRequest(Owner("user", a), Owner("user", b), amount, "bench", f"{tag}-{n}"))
                n += 1
            try:
                services.wallet_transfer_batch(transfers=reqs, actor=None)
                ok += batch
            except DomainError:
                refused += batch
            batches += 1
            continue
        a, b = rng.sample(owner_ids, 2)
        try:
            services.wallet_transfer(source=Owner("user", a), destination=Owner("user", b), amount=amount,
                              reference="bench", idempotency_key=f"{tag}-{n}", actor=None)
            ok += 1
        except DomainError:
            refused += 1
        n += 1
    cpu = time.process_time() - cpu
    end = time.monotonic()
    connection.close()
    return ok, refused, batches, cpu, start, end


def run(label: str, owner_ids: list[int], workers: int, seconds: float, batch: int = 0) -> float:
    from django.db import connections

    global _START
    connections.close_all()
    tasks = [(owner_ids, seconds, f"{label}-{i}-{time.time_ns()}", batch) for i in range(workers)]
    if workers == 1:
        _START = None
        results = [worker(tasks[0])]
    else:
        ctx = mp.get_context("fork")
        _START = ctx.Barrier(workers)
        with ctx.Pool(workers) as pool:
            results = pool.map(worker, tasks)
    # From the first worker's start to the last one's end: forking, connecting and tearing the
    # pool down are not the ledger's time.
    elapsed = max(r[5] for r in results) - min(r[4] for r in results)
    ok = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    rate = ok / elapsed
    cpu_ms = sum(r[3] for r in results) * 1000 / max(ok + refused, 1)
    print(f"  {label:<44} {rate:>9,.0f} transfers/s  ({ok:,} booked, {refused:,} refused, {elapsed:.1f} s, "
          f"client CPU {cpu_ms:.2f} ms/transfer)")
    return rate


def check_invariants() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM (SELECT txn_id, currency FROM payments_entry GROUP BY txn_id, currency "
                    "HAVING sum(amount_minor) <> 0) t")
        unbalanced = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM payments_account a LEFT JOIN (SELECT account_id, sum(amount_minor) s "
                    "FROM payments_entry GROUP BY account_id) e ON e.account_id = a.id WHERE a.balance_minor <> coalesce(e.s, 0)")
        drifted = cur.fetchone()[0]
        cur.execute("SELECT coalesce(sum(balance_minor), 0) FROM payments_account")
        total = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM payments_account WHERE NOT allow_negative AND balance_minor < 0")
        negative = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM payments_transaction")
        txns = cur.fetchone()[0]
    ok = unbalanced == drifted == total == negative == 0
    print(f"  invariants: {txns:,} transactions, unbalanced={unbalanced}, balance≠entries={drifted}, "
          f"sum={total}, negative={negative} -> {'OK' if ok else 'BROKEN'}")
    if not ok:
        raise SystemExit(1)


@contextmanager
def pgbench_database():
    """pgbench's scratch database, initialised once for its turns, then dropped."""
    scratch.create(PGBENCH_DB)
    try:
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", PGBENCH_DB], check=True, env=_pg_env(), capture_output=True)
        yield
    finally:
        scratch.drop(PGBENCH_DB)


def pgbench(seconds: int, clients: int) -> float:
    """pgbench -N TPS on the database of :func:`pgbench_database`."""
    out = subprocess.run(["pgbench", "-c", str(clients), "-j", "2", "-T", str(seconds), "-N", PGBENCH_DB],
                         check=True, env=_pg_env(), capture_output=True, text=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def _pg_env() -> dict[str, str]:
    pg = scratch.PG
    return {**os.environ, "PGHOST": pg["host"], "PGPORT": pg["port"], "PGUSER": pg["user"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="duration of each ledger run")
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="pgbench -T of each turn")
    parser.add_argument("--pairs", type=int, default=3, help="turns of pgbench and the ledger's concurrent run")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--hot", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100, help="transfers per database transaction, batched path")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--json", help="also write the figures to this file (bench/run.py reads it)")
    opts = parser.parse_args()

    # pgbench and the ledger's 8-worker run take turns, ``--pairs`` times, and the baseline is
    # pgbench's mean over its turns: on a shared VM the same pgbench moved by a half from one minute
    # to the next, and a ledger run set beside a pgbench run of another minute moved its ratio by a
    # tenth either way (bench/ledger/README.md, session 26).
    print(f"pgbench -c {opts.workers} -j 2 -T {opts.pgbench_seconds} -N (scale 10, scratch database {PGBENCH_DB}), "
          f"in turn with the ledger's concurrent run, {opts.pairs} times ...")
    with pgbench_database():
        figures, turns = ledger_runs(opts, pgbench_turn=lambda: pgbench(opts.pgbench_seconds, opts.workers))
    baseline = sum(turns) / len(turns)
    print(f"pgbench -N: {', '.join(f'{t:,.0f}' for t in turns)} TPS; baseline {baseline:,.0f} TPS (the mean)")
    print("ratio to pgbench -N:")
    for name, rate in figures.items():
        print(f"  {name:<22} {rate / baseline:5.2f} x pgbench")
    if opts.json:
        Path(opts.json).write_text(json.dumps({"pgbench_tps": baseline, "transfers_per_s": figures, "invariants": True}))


def ledger_runs(opts, pgbench_turn) -> tuple[dict[str, float], list[float]]:
    """The ledger's runs, with ``pgbench_turn()`` (pgbench's TPS) in turn with the concurrent
    spread run: (transfers/s per run, pgbench's turns)."""
    print(f"creating {DB}, migrating, seeding {opts.accounts:,} funded wallets ...")
    with scratch.database(DB, keep=opts.keep):
        scratch.migrate(reference=("core",))
        owners = seed(opts.accounts)
        hot = owners[: opts.hot]
        print("transfers through payments.services.wallet_transfer (each a balanced 2-entry transaction, own DB transaction):")
        figures = {"single, spread": run(f"1 worker, {len(owners):,} accounts", owners, 1, opts.seconds)}
        turns, rates = [], []
        for _ in range(opts.pairs):
            turns.append(pgbench_turn())
            print(f"  pgbench -N {turns[-1]:>38,.0f} TPS")
            rates.append(run(f"{opts.workers} workers, {len(owners):,} accounts", owners, opts.workers, opts.seconds))
        figures["concurrent, spread"] = sum(rates) / len(rates)
        figures["single, hot"] = run(f"1 worker, {len(hot)} hot accounts", hot, 1, opts.seconds)
        figures["concurrent, hot"] = run(f"{opts.workers} workers, {len(hot)} hot accounts", hot, opts.workers, opts.seconds)
        check_invariants()
        print(f"batched path (services.wallet_transfer_batch, {opts.batch} transfers per DB transaction):")
        figures["batched, spread"] = run(f"{opts.workers} workers, {len(owners):,} accounts, batched", owners,
                                         opts.workers, opts.seconds, batch=opts.batch)
        check_invariants()
    return figures, turns


if __name__ == "__main__":
    main()
