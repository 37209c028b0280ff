"""Where a catalogue page's time goes: the pages of the benchmark requested in a loop in one
process, on the database a ``bench/catalogue/run.py --keep`` run left behind.

    .venv/bin/python bench/catalogue/run.py --keep --requests 20        # once: the 100,000 products
    .venv/bin/python bench/catalogue/profile.py [--requests 100] [--mode time|cprofile|pyinstrument] [--page storefront]

``time`` prints wall and CPU per request of each page (``time.process_time`` of this process: CPU
is steadier than wall clock on a shared machine, and what is left is waiting on PostgreSQL and
Redis; the minimum is the steadiest of all, as neighbours only ever add to it) beside the
hello-world view; ``cprofile`` prints the functions of one page by cumulative
time; ``pyinstrument`` its call tree. ``--language`` sets Accept-Language (en, ru, zh-hans, kk, uz).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import scratch  # noqa: E402 - after the path

PAGES = {
    "hello": lambda c: ["/bench/hello/"],
    "storefront": lambda c: [f"/s/{code}/" for code in c["codes"]],
    "filtered": lambda c: [f"/s/{code}/?category={slug}&in_stock=1&ordering=price"
                           for code in c["codes"] for slug in c["slugs"][:4]],
    "api": lambda c: [f"/api/v1/products/?storefront={code}" for code in c["codes"]],
    "product": lambda c: [f"/p/{pk}/" for pk in c["ids"]],
    "api-detail": lambda c: [f"/api/v1/products/{pk}/" for pk in c["ids"]],
    "search-page": lambda c: [f"/s/{code}/?q={word}" for code in c["codes"][:3] for word in ("honey", "carpet", "walnut")],
    "search-api": lambda c: [f"/api/v1/products/?storefront={code}&q={word}" for code in c["codes"][:3]
                             for word in ("honey", "carpet", "walnut")],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="per page")
    parser.add_argument("--mode", choices=["time", "cprofile", "pyinstrument"], default="time")
    parser.add_argument("--page", action="append", choices=list(PAGES), help="(repeatable) default: every page")
    parser.add_argument("--language", default="en")
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("catalogue_bench", Path(__file__).with_name("run.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    scratch.setup_django(os.environ.get("CATALOGUE_BENCH_DB", bench.DB),
                         REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"),
                         API_THROTTLE_ANON="100000000/min", API_THROTTLE_USER="100000000/min")

    import random

    from django.test import Client
    from django.test.utils import override_settings

    from marketplace.models import Category, Product, Storefront

    rng = random.Random(2026)
    last = Product.objects.order_by("-id").values_list("id", flat=True).first() or 1
    context = {
        "codes": list(Storefront.objects.order_by("code").values_list("code", flat=True)),
        "slugs": sorted(set(Category.objects.filter(parent__isnull=False, products__isnull=False)
                            .values_list("slug", flat=True))),
        "ids": [rng.randint(1, last) for _ in range(100)],
    }
    client = Client(HTTP_ACCEPT_LANGUAGE=args.language)
    pages = args.page or list(PAGES)
    with override_settings(ROOT_URLCONF="bench.catalogue.urls", DEBUG=False):
        for name in pages:
            urls = PAGES[name](context)
            for url in urls[:20]:  # warm-up: templates compiled, caches filled
                response = client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code}")
            if args.mode == "time":
                walls, cpus = [], []
                for i in range(args.requests):
                    url = urls[i % len(urls)]
                    w, c = time.perf_counter(), time.process_time()
                    client.get(url)
                    cpus.append((time.process_time() - c) * 1000)
                    walls.append((time.perf_counter() - w) * 1000)
                print(f"{name:<14} wall p50 {statistics.median(walls):6.1f} ms   CPU mean {statistics.fmean(cpus):6.1f} ms"
                      f"   CPU p50 {statistics.median(cpus):6.1f} ms   CPU min {min(cpus):6.1f} ms", flush=True)
            elif args.mode == "cprofile":
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
                for i in range(args.requests):
                    client.get(urls[i % len(urls)])
                profiler.disable()
                print(f"--- {name}: {args.requests} requests")
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
            else:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
                for i in range(args.requests):
                    client.get(urls[i % len(urls)])
                profiler.stop()
                print(f"--- {name}: {args.requests} requests")
                print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
