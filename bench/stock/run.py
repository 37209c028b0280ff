"""Stock page benchmark: the operator's stock table, movements and the API over 100,000 stock rows.

Creates and drops its own database (karavan_bench_stock), never the demo or test one. Generates
``--rows`` stock levels in TAS (plus a tenth of that in ALA, which the TAS operator must not see)
and 30 days of movements for the chart, then times each page through Django's test client (the
whole middleware stack, session login) beside a hello-world view measured in the same run.
Prints p50/p95/p99 and the ratio to the baseline; asserts nothing about timings.

    .venv/bin/python bench/stock/run.py [--rows 100000] [--requests 200] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import scratch  # noqa: E402 - after the path

DB = os.environ.get("STOCK_BENCH_DB", "karavan_bench_stock")


def seed(rows: int):
    """Companies, ``rows`` SKUs stocked in TAS (a tenth also in ALA), and 30 days of movements.

    Written with set-based SQL (generate_series): the benchmark measures reads, not the seeding.
    Levels and movements agree (check_stock stays clean): each level gets its receipt.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from core.models import Company
    from warehouses.models import Warehouse

    scratch.migrate()
    Company.objects.bulk_create([Company(name=f"Bench Trading {i:03d}", country_id="CN", tax_id=f"BENCH{i:06d}",
                                         verification="verified") for i in range(300)])
    operator = get_user_model().objects.create_user("bench_operator", password="bench-pass-1234")
    operator.groups.add(Group.objects.get_or_create(name="operator")[0])
    Warehouse.objects.get(code="TAS").operators.add(operator)
    with connection.cursor() as cur:
        cur.execute("SELECT min(id), max(id) FROM core_company WHERE name LIKE %s", ["Bench Trading %"])
        lo, hi = cur.fetchone()
        cur.execute("""
            INSERT INTO warehouses_sku (company_id, code, name, hs_code, weight_g, low_stock_threshold, created_at)
            SELECT %s + (g %% (%s - %s + 1)), 'SKU-' || lpad(g::text, 6, '0'),
                   (ARRAY['Smartphone','Phone case','Charger','Headphones','Laptop','Cable'])[1 + g %% 6] || ' model ' || g,
                   '851713', 100 + g %% 900, 5, now()
            FROM generate_series(1, %s) AS g""", [lo, hi, lo, rows])
        # TAS: every SKU, bonded or released; ALA: every tenth SKU (must stay invisible to TAS's operator).
        cur.execute("""
            INSERT INTO warehouses_stocklevel (warehouse_id, sku_id, bond_status, on_hand, reserved, location, aged_since, updated_at)
            SELECT 'TAS', s.id, CASE WHEN s.id %% 3 = 0 THEN 'released' ELSE 'bonded' END, 1 + s.id %% 500,
                   (s.id %% 7) %% (1 + s.id %% 500), 'A-' || lpad((s.id %% 400)::text, 3, '0'),
                   now() - make_interval(days => (s.id %% 180)::int), now()
            FROM warehouses_sku s
            UNION ALL
            SELECT 'ALA', s.id, 'bonded', 10, 0, '', now(), now() FROM warehouses_sku s WHERE s.id %% 10 = 0""", [])
        cur.execute("""
            INSERT INTO warehouses_movement (warehouse_id, sku_id, bond_status, kind, quantity, on_hand_delta, reserved_delta,
                                             reason, note, reference, actor_label, at)
            SELECT l.warehouse_id, l.sku_id, l.bond_status, 'receipt', l.on_hand, l.on_hand, 0, '', '', 'bench-seed', 'system',
                   now() - make_interval(days => (l.sku_id %% 30)::int, secs => (l.sku_id %% 86000)::int)
            FROM warehouses_stocklevel l
            UNION ALL
            SELECT l.warehouse_id, l.sku_id, l.bond_status, 'reserve', l.reserved, 0, l.reserved, '', '', 'bench-seed', 'system',
                   now() - make_interval(secs => (l.sku_id %% 86000)::int)
            FROM warehouses_stocklevel l WHERE l.reserved > 0""", [])
        cur.execute("ANALYZE")
        cur.execute("SELECT count(*) FROM warehouses_stocklevel WHERE warehouse_id = 'TAS'")
        tas = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM warehouses_movement")
        moves = cur.fetchone()[0]
    return operator, tas, moves


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49], qs[94], qs[98]


def measure(client, url: str, n: int) -> list[float]:
    for _ in range(5):  # warm caches and connections; not counted
        assert client.get(url).status_code == 200, url
    out = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()

    with scratch.database(DB, keep=args.keep):
        from django.conf import settings

        settings.ROOT_URLCONF = "bench.stock.urls"  # the project's URLs plus the hello-world baseline
        t = time.perf_counter()
        operator, tas_rows, moves = seed(args.rows)
        print(f"seeded {tas_rows:,} TAS stock rows and {moves:,} movements in {time.perf_counter() - t:.1f} s")

        from django.db import connection
        from django.test import Client

        client = Client()
        client.force_login(operator)
        third_page = "/warehouses/TAS/"
        for _ in range(2):  # a deep page: follow "Next" twice
            html = client.get(third_page).content.decode()
            third_page = "/warehouses/TAS/" + re.search(r'href="(\?[^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
        pages = [
            ("hello-world view (baseline)", "/bench-hello/"),
            ("stock, first page", "/warehouses/TAS/"),
            ("stock, third page (cursor)", third_page),
            ("stock, filtered (bonded, low)", "/warehouses/TAS/?bond_status=bonded&low=on"),
            ("stock, search 'model 4242'", "/warehouses/TAS/?q=model+4242"),
            ("stock, sorted by on hand desc", "/warehouses/TAS/?sort=-on_hand"),
            ("stock, 200 rows", "/warehouses/TAS/?page_size=200"),
            ("movements, first page", "/warehouses/TAS/movements/"),
            ("API stock list", "/api/v1/warehouses/TAS/stock/"),
        ]
        print(f"\n{args.requests} requests each, milliseconds, Django test client (full middleware), 1 process\n")
        print(f"{'page':34} {'p50':>7} {'p95':>7} {'p99':>7} {'p50/hello':>10}")
        base = None
        for name, url in pages:
            p50, p95, p99 = percentiles(measure(client, url, args.requests))
            base = base or p50
            print(f"{name:34} {p50:7.2f} {p95:7.2f} {p99:7.2f} {p50 / base:10.1f}")
        connection.close()


if __name__ == "__main__":
    main()
