"""Catalogue import benchmark: 7,500 rows with a photo each, CSV + ZIP, through a real Celery worker.

Creates and drops its own database (karavan_bench_import) and uses its own Redis database
(``redis://127.0.0.1:6379/14``, flushed before and after), never the demo or test ones. Seeds the
reference data and a verified Kazakh company admitted to the kz pavilion, generates ``--rows`` rows
(honey, dried fruit, ...: titles in en/ru/zh, a description, a price) and as many small JPEG photos
(``--size`` pixels square, each different) in a ZIP, then starts a worker as a subprocess:

    celery -A config worker -Q marketplace,default --concurrency 2 --pool prefork

and measures, from the upload (``marketplace.services.catalogue_import_create``, what the API calls)
to the import's ``done``, polling its progress as the portal does:

1. baseline: ``--pings`` ``core.ping`` no-op tasks drained by that worker (the queue's own ceiling);
2. the full import: rows/s and photos/s over the whole wall time;
3. the database phase on its own: the same rows without photos for a second company (every product
   new, the same chunks and bulk statements);
4. the same file and ZIP again (nothing changes: a re-import only reads and compares).

Prints the figures beside the targets (bench/README.md: under 60 s, aim under 20 s on 2 cores);
asserts nothing about timings; exits 1 when an import does not end ``done`` with every row written.

    .venv/bin/python bench/import/run.py [--rows 7500] [--size 96] [--concurrency 2] [--keep] [--profile]

``--profile`` runs the third and fourth steps in this process under pyinstrument instead (no worker)
and prints where the time goes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import scratch  # noqa: E402 - after the path

DB = os.environ.get("IMPORT_BENCH_DB", "karavan_bench_import")
REDIS_URL = os.environ.get("IMPORT_BENCH_REDIS", "redis://127.0.0.1:6379/14")
DATABASE_URL = scratch.url(DB)
MUST, AIM = 60.0, 20.0

PRODUCTS = [("honey", "040900", "Mountain honey", "Горный мёд", "山花蜂蜜"),
            ("dried-fruit-nuts", "081310", "Dried apricots", "Курага", "杏干"),
            ("dried-fruit-nuts", "081320", "Prunes", "Чернослив", "西梅干"),
            ("dried-fruit-nuts", "080232", "Walnuts", "Грецкие орехи", "核桃"),
            ("sweets", "180690", "Chocolate", "Шоколад", "巧克力")]


def seed():
    """A verified KZ company on the kz pavilion, and a second one for the database-only run."""
    from core.access import SYSTEM_ACTOR
    from core.models import Company
    from marketplace import services
    from marketplace.models import Storefront, StorefrontMembership

    companies = []
    for n, tax_id in enumerate(["000140000018", "000140000027"]):
        company = Company.objects.create(name=f"Bench Honey {n + 1} LLP", country_id="KZ", tax_id=tax_id,
                                         verification=Company.Verification.VERIFIED)
        membership = services.storefront_join_request(company=company, storefront=Storefront.objects.get(code="kz"),
                                                      actor=SYSTEM_ACTOR)
        services.storefront_membership_decide(membership=membership, to=StorefrontMembership.Status.APPROVED,
                                              actor=SYSTEM_ACTOR)
        companies.append(company)
    return companies


def generate(rows: int, size: int, folder: Path) -> tuple[Path, Path, Path]:
    """The CSV, the same without its image column, and the ZIP of one JPEG per row (each a
    different colour and mark)."""
    from PIL import Image, ImageDraw

    rnd = random.Random(13)
    header = ("sku,category,hs_code,origin_country,net_weight_g,gross_weight_g,title_en,title_ru,title_zh,"
              "description_en,price_kz,image")
    lines = [header]
    zpath = folder / "photos.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_STORED) as archive:
        for n in range(1, rows + 1):
            category, hs, en, ru, zh = PRODUCTS[n % len(PRODUCTS)]
            weight = rnd.choice([250, 500, 1000])
            price = f"{rnd.randint(990, 49900) / 100:.2f}"
            lines.append(f"BN-{n:05d},{category},{hs},KZ,{weight},{weight + 40},{en} {n},{ru} {n},{zh} {n},"
                         f"\"Batch {n}, from the Altai foothills\",{price},photos/bn-{n:05d}.jpg")
            image = Image.new("RGB", (size, size), (n * 7 % 256, n * 13 % 256, n * 29 % 256))
            ImageDraw.Draw(image).rectangle([size // 4, size // 4, size // 2 + n % (size // 4), size // 2], fill=(250, 200, 40))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85)
            archive.writestr(f"photos/bn-{n:05d}.jpg", out.getvalue())
    cpath = folder / "catalogue.csv"
    cpath.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    bare = folder / "catalogue-no-photos.csv"
    bare.write_text("\r\n".join(line.rsplit(",", 1)[0] for line in lines) + "\r\n", encoding="utf-8")
    return cpath, bare, zpath


# --- the worker ------------------------------------------------------------------------------------


def worker_env(media: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DJANGO_SETTINGS_MODULE"}}
    env.update({"KARAVAN_ENV": "test", "DEBUG": "0", "LOG_LEVEL": "WARNING", "DATABASE_URL": DATABASE_URL,
                "CELERY_BROKER_URL": REDIS_URL, "REDIS_URL": REDIS_URL, "MEDIA_ROOT": media})
    return env


def start_worker(concurrency: int, log, media: str) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", "marketplace,default",
           "--concurrency", str(concurrency), "--pool", "prefork", "-l", "WARNING", "-n", "import-bench@%h"]
    return subprocess.Popen(cmd, cwd=ROOT, env=worker_env(media), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_worker(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the worker and its pool children only
        proc.wait(timeout=5)


def baseline(r, pings: int, concurrency: int, log, media: str) -> tuple[float, subprocess.Popen]:
    """Queue ``pings`` no-op tasks, start the worker, time the drain from its first take."""
    from core.tasks import ping

    for _ in range(pings):
        ping.apply_async()
    proc = start_worker(concurrency, log, media)
    deadline = time.monotonic() + 120
    while r.llen("default") == pings:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the worker took no task:\n" + Path(log.name).read_text()[-3000:])
        time.sleep(0.005)
    started = time.monotonic()
    while r.llen("default") or r.hlen("unacked"):
        time.sleep(0.01)
    return pings / (time.monotonic() - started), proc


# --- runs ------------------------------------------------------------------------------------------


def run_import(company, csv_path: Path, zip_path: Path | None, label: str, timeout: float, proc, log) -> dict:
    from django.core.files import File

    from core.access import SYSTEM_ACTOR
    from marketplace import selectors, services
    from marketplace.models import CatalogueImport

    started = time.perf_counter()
    with csv_path.open("rb") as fh:
        zh = zip_path.open("rb") if zip_path else None
        try:
            imp = services.catalogue_import_create(company=company, actor=SYSTEM_ACTOR, file=File(fh, name=csv_path.name),
                                                   images_zip=File(zh, name=zip_path.name) if zh else None)
        finally:
            if zh:
                zh.close()
    uploaded = time.perf_counter() - started
    last_print = 0.0
    while True:
        imp = CatalogueImport.objects.get(pk=imp.pk)
        now = time.perf_counter() - started
        if imp.status in ("done", "failed"):
            break
        if proc.poll() is not None:
            raise RuntimeError("the worker exited:\n" + Path(log.name).read_text()[-3000:])
        if now > timeout:
            raise RuntimeError(f"{label}: not done after {timeout} s ({imp.rows_done} rows)")
        if now - last_print >= 2:
            p = selectors.import_progress(imp)
            print(f"    {label}: {now:5.1f} s  {p['percent']:3d} %  {p['processed']:>6,}/{imp.rows_total:,} rows  "
                  f"{p['rate'] or 0:>7,.0f} rows/s  ~{p['seconds_left'] if p['seconds_left'] is not None else '?'} s left")
            last_print = now
        time.sleep(0.05)
    wall = time.perf_counter() - started
    from django.db.models import Sum

    phases = imp.chunks.aggregate(check=Sum("seconds_check"), photos=Sum("seconds_photos"), write=Sum("seconds_write"))
    return {"label": label, "import": imp, "wall": wall, "upload": uploaded, "rows": imp.rows_done, **phases,
            "failed": imp.rows_failed, "status": imp.status, "created": imp.products_created,
            "updated": imp.products_updated}


def profile_db_phase(company, csv_path: Path) -> None:
    """The database phase in this process under pyinstrument."""
    from django.core.files import File
    from pyinstrument import Profiler

    from core.access import SYSTEM_ACTOR
    from marketplace import services

    with csv_path.open("rb") as fh:
        imp = services.catalogue_import_create(company=company, actor=SYSTEM_ACTOR, run=False,
                                               file=File(fh, name=csv_path.name))
    profiler = Profiler()
    profiler.start()
    services.catalogue_import_run(import_id=imp.pk)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    print("the same file again (nothing changes):")
    with csv_path.open("rb") as fh:
        imp = services.catalogue_import_create(company=company, actor=SYSTEM_ACTOR, run=False,
                                               file=File(fh, name=csv_path.name))
    profiler = Profiler()
    profiler.start()
    services.catalogue_import_run(import_id=imp.pk)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=7_500)
    parser.add_argument("--size", type=int, default=96, help="side of each generated photo, pixels")
    parser.add_argument("--pings", type=int, default=2_000, help="no-op tasks of the baseline")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--keep", action="store_true", help="keep the database, Redis db, files and worker log")
    parser.add_argument("--profile", action="store_true", help="profile the database phase here instead")
    parser.add_argument("--json", help="also write the figures to this file (bench/run.py reads it)")
    opts = parser.parse_args()

    import redis

    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    folder = Path(tempfile.mkdtemp(prefix="import-bench-"))
    media = str(folder / "media")
    log = tempfile.NamedTemporaryFile("w+", prefix="import-worker-", suffix=".log", delete=False)  # noqa: SIM115
    proc = None
    failed = False
    with scratch.database(DB, keep=opts.keep, CELERY_BROKER_URL=REDIS_URL, REDIS_URL=REDIS_URL, MEDIA_ROOT=media):
        try:
            print(f"load average {os.getloadavg()[0]:.2f}; creating {DB}, migrating ...")
            scratch.migrate()
            companies = seed()
            t = time.perf_counter()
            csv_path, bare_path, zip_path = generate(opts.rows, opts.size, folder)
            print(f"  generated {opts.rows:,} rows and {opts.rows:,} JPEG photos of {opts.size}×{opts.size} px in "
                  f"{time.perf_counter() - t:.1f} s (CSV {csv_path.stat().st_size / 1e6:.1f} MB, "
                  f"ZIP {zip_path.stat().st_size / 1e6:.1f} MB)")
            if opts.profile:
                profile_db_phase(companies[1], bare_path)
                return
            from django.db import connections

            connections.close_all()
            print(f"worker: celery -A config worker -Q marketplace,default --concurrency {opts.concurrency} --pool prefork "
                  f"(broker {REDIS_URL}; log {log.name})")
            ping_rate, proc = baseline(r, opts.pings, opts.concurrency, log, media)
            print(f"  no-op core.ping: {opts.pings:,} tasks drained = {ping_rate:,.0f} tasks/s")
            runs = [run_import(companies[0], csv_path, zip_path, "full import (rows + photos)", opts.timeout, proc, log),
                    run_import(companies[1], bare_path, None, "database phase alone (no photos)", opts.timeout, proc, log),
                    run_import(companies[0], csv_path, zip_path, "same file again (no change)", opts.timeout, proc, log)]
            from marketplace.models import Product, ProductImage

            photos = ProductImage.objects.filter(product__company=companies[0]).count()
            products = Product.objects.filter(company=companies[0], status="active").count()
            print(f"\ncatalogue import, {opts.rows:,} rows (targets: bench/README.md; chunks of "
                  f"{os.environ.get('MARKETPLACE_IMPORT_CHUNK_ROWS', '500')} rows, worker --concurrency {opts.concurrency})\n")
            print(f"{'run':36} {'wall':>8} {'rows/s':>9} {'photos/s':>9} {'upload':>7} {'check':>7} {'photos':>7} "
                  f"{'db':>7}  result")
            for run in runs:
                images = opts.rows if run is runs[0] else 0
                result = (f"{run['status']}: {run['rows']:,} rows, {run['failed']} refused, {run['created']:,} created, "
                          f"{run['updated']:,} updated")
                print(f"{run['label']:36} {run['wall']:>7.2f}s {run['rows'] / run['wall']:>9,.0f} "
                      f"{(images / run['wall']) if images else 0:>9,.0f} {run['upload']:>6.2f}s {run['check'] or 0:>6.2f}s "
                      f"{run['photos'] or 0:>6.2f}s {run['write'] or 0:>6.2f}s  {result}")
                if run["status"] != "done" or run["rows"] != opts.rows or run["failed"]:
                    failed = True
            full = runs[0]["wall"]
            print(f"{'baseline: no-op core.ping':36} {'':>8} {ping_rate:>9,.0f} tasks/s")
            print("(check, photos, db: seconds summed over the chunks, in the worker; db = each chunk's transaction, "
                  "which holds the company's lock, so the db phases run one at a time)")
            print(f"\nfull import {full:.1f} s: must under {MUST:.0f} s {'yes' if full < MUST else 'NO'}, "
                  f"aim under {AIM:.0f} s {'yes' if full < AIM else 'no'}; {products:,} products on sale, {photos:,} photos")
            if runs[2]["updated"] or runs[2]["created"] or photos != opts.rows:
                print("the second run changed something: BROKEN")
                failed = True
            if opts.json:
                Path(opts.json).write_text(json.dumps({
                    "rows": opts.rows, "noop_per_s": ping_rate, "invariants": not failed,
                    "runs": [{"label": run["label"], "wall_s": run["wall"], "status": run["status"]} for run in runs]}))
        except BaseException:
            failed = True
            raise
        finally:
            stop_worker(proc)
            log.close()
            if not opts.keep:
                r.flushdb()
                import shutil

                shutil.rmtree(folder, ignore_errors=True)
                if not failed:
                    os.unlink(log.name)
            print(f"(stopped the worker; {'keeping' if opts.keep else 'dropping'} {DB}"
                  f"{'; files in ' + str(folder) if opts.keep else ''}{'; worker log ' + log.name if failed or opts.keep else ''})")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
