"""The demo works on the embedded default: every page of every demo account renders on SQLite.

In subprocesses with ``KARAVAN_ENV=demo``, a private ``KARAVAN_VAR_DIR`` and no DATABASE_URL/REDIS_URL
(so this pytest's PostgreSQL and Redis stay out of it): ``migrate``, ``seed_demo``, then
``crawl_pages`` (core/management/commands/crawl_pages.py), which logs in as each demo account and as
an anonymous visitor and GETs the home page, every link of the navigation in the five languages, every
on-site link of those pages, their GET forms (search boxes, filters) and the API's GET endpoints. Any page that is not a 200 (a logged-in
account sent to the login page included), shows Django's DEBUG error page or the 500 page, and any
API 5xx fails the test, with the list. PostgreSQL-only SQL (ARRAY_AGG, full-text search, trigrams)
in a page shows up here. Two crawlers run side by side, each over half of the accounts.
"""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.demo import ACCOUNTS

ROOT = Path(__file__).resolve().parents[2]
CRAWLERS = 2
# Pages the crawl must reach, so that a crawler that finds no links cannot pass by testing nothing.
MUST_VISIT = {
    "anonymous": ["/", "/accounts/login/"],
    "buyer_uz": ["/cart/", "/wallet/"],
    "seller_cn": ["/warehouses/consignments/"],
    "operator_tas": ["/warehouses/TAS/", "/warehouses/TAS/picking/", "/api/v1/warehouses/TAS/pick-list/"],
    "operator_ala": ["/warehouses/ALA/picking/"],
    "broker": ["/customs/"],
    "admin": ["/admin/"],
}


def demo_env(var_dir: Path) -> dict:
    dropped = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TEST_BROKER_URL", "DEBUG", "ALLOWED_HOSTS",
               "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith(("PYTEST_", "KARAVAN_"))}
    env.update(KARAVAN_ENV="demo", KARAVAN_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings",
               PYTHONUNBUFFERED="1")
    return env


def manage(env: dict, *args: str, timeout: float = 300) -> float:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return time.monotonic() - started


@pytest.mark.demo_sqlite
def test_every_page_of_every_demo_account_renders_on_sqlite(tmp_path):
    env = demo_env(tmp_path / "var")
    migrate = manage(env, "migrate", "--noinput", "-v0")
    seed = manage(env, "seed_demo")
    assert (tmp_path / "var" / "karavan.sqlite3").exists(), "the demo did not run on the embedded SQLite database"

    accounts = ["anonymous", *ACCOUNTS]
    started = time.monotonic()
    crawlers = []
    for i in range(CRAWLERS):
        report = tmp_path / f"crawl-{i}.json"
        command = [sys.executable, "manage.py", "crawl_pages", "--accounts", ",".join(accounts[i::CRAWLERS]),
                   "--json", str(report)]
        crawlers.append((report, subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                                  stderr=subprocess.PIPE, text=True)))
    failures, visited, requests = [], {}, 0
    try:
        for report, process in crawlers:
            out, err = process.communicate(timeout=300)
            assert report.exists(), f"a crawler stopped without a report (exit {process.returncode}):\n{out}\n{err[-5000:]}"
            data = json.loads(report.read_text())
            failures += [f["text"] for f in data["failures"]]
            visited.update(data["visited"])
            requests += data["requests"]
    finally:
        for _, process in crawlers:
            if process.poll() is None:
                process.kill()
                process.wait()
    crawl = time.monotonic() - started
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"migrate {migrate:.1f} s, seed_demo {seed:.1f} s, crawl {crawl:.1f} s ({requests} requests, {CRAWLERS} "
          f"crawlers); CPU of the subprocesses {cpu.ru_utime + cpu.ru_stime:.1f} s")

    if failures:
        print(f"{len(failures)} pages fail on SQLite:", *failures, sep="\n")
    assert not failures, f"{len(failures)} pages fail on SQLite:\n" + "\n".join(failures)
    assert set(visited) == set(accounts)
    missing = [f"{who} {url}" for who, urls in MUST_VISIT.items() for url in urls if url not in visited[who]]
    assert not missing, "the crawl did not reach: " + ", ".join(missing)


PAGE = """<html lang="en"><body>
<header class="topbar"><nav><ul><li><a href="/">Karavan</a></li><li><a href="/wallet/">Wallet</a></li></ul>
<form action="/accounts/logout/" method="post"><button>Log out</button></form></nav></header>
<main><header><a href="/in-main-header/">not navigation</a></header>
<a href="/p/1/?storefront=kz">Tea</a>
<form method="get"><input type="search" name="q" value=""><input type="hidden" name="category" value="tea">
  <select name="ordering"><option value="price">Price</option><option value="newest" selected>Newest</option></select>
  <select name="origin"><option>KZ</option></select>
  <input type="checkbox" name="in_stock" value="1"><input type="checkbox" name="bonded" checked>
  <input type="number" name="price_min" value=""><button type="submit" name="go">Go</button></form>
<form method="post"><input name="quantity" value="1"></form>
<form method="get" hx-post="/cart/lines/"><input name="sku" value=""></form>
</main></body></html>"""


def test_the_crawler_tells_navigation_links_from_the_rest_and_submits_only_get_forms():
    from core.management.commands.crawl_pages import LinkParser

    parser = LinkParser("tea")
    parser.feed(PAGE)
    assert parser.nav == ["/", "/wallet/"]
    assert parser.links == ["/", "/wallet/", "/in-main-header/", "/p/1/?storefront=kz"]
    assert parser.forms == [("", [("q", "tea"), ("category", "tea"), ("ordering", "newest"), ("origin", "KZ"),
                                  ("bonded", "on"), ("price_min", "")])]


def test_the_crawler_stays_on_the_site_and_off_logout_static_and_admin_pages():
    from core.management.commands.crawl_pages import Crawler

    crawler = Crawler(languages=["en"], deep_languages="own", api=False, probe="tea")
    on_site = [crawler.on_site("/warehouses/TAS/", href) for href in (
        "picking/", "?sort=age#top", "/admin/", "/admin/auth/user/", "/accounts/logout/", "/static/css/karavan.css",
        "/media/products/1.jpg", "/i18n/setlang/", "https://example.com/", "mailto:a@b.c", "#top", "")]
    assert on_site == ["/warehouses/TAS/picking/", "/warehouses/TAS/?sort=age", "/admin/"] + [None] * 9
