"""Catalogue benchmark: 100,000 products, then p50/p95/p99 of the pages and API calls buyers make,
beside a hello-world Django view measured in the same run.

Runs against a database it creates and drops itself (karavan_bench_catalogue), never the demo or
test database. Requests go through Django's test client in this process (the whole middleware
stack, templates, serializers; no network), so the ratio to hello-world is what the catalogue adds.
Prints figures; asserts nothing about timings.

    .venv/bin/python bench/catalogue/run.py [--products 100000] [--requests 200] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import scratch  # noqa: E402 - after the path

DB = os.environ.get("CATALOGUE_BENCH_DB", "karavan_bench_catalogue")

# Companies per country: several hundred sellers, the national pavilions and the China-goods side.
COMPANIES = {"KZ": 90, "UZ": 70, "KG": 35, "TJ": 25, "TM": 15, "CN": 115}
BRANDS = ["Altyn", "Dala", "Samal", "Nomad", "Silk Way", "Tulpar", "Aral", "Zhetysu", "Tengri", "Baikonur",
          "Registan", "Chorsu", "Pamir", "Issyk", "Hisor", "Merv", "Akhal", "Lotus", "Panda", "Dragon", "Phoenix",
          "Jade", "Orient", "Sunrise", "Great Wall", "Kunlun", "Tianshan", "Huaxia", "Mingde", "Xinghe"]
# Parallel adjectives (en, ru, zh) so every language has the same product in its own words.
ADJECTIVES = [("premium", "премиальный", "优质"), ("organic", "органический", "有机"), ("classic", "классический", "经典"),
              ("natural", "натуральный", "天然"), ("family", "семейный", "家庭装"), ("gift", "подарочный", "礼品"),
              ("export", "экспортный", "出口"), ("handmade", "ручной работы", "手工"), ("new", "новый", "新款"),
              ("light", "лёгкий", "轻便"), ("strong", "прочный", "结实"), ("fresh", "свежий", "新鲜")]
SENTENCES = [
    ("Packed at the origin and shipped by rail.", "Упаковано на месте производства и отправлено по железной дороге.", "产地包装，铁路运输。"),
    ("Every batch is checked before it leaves the warehouse.", "Каждая партия проверяется перед отправкой со склада.", "每批货出库前均经检验。"),
    ("Customs documents are prepared by the seller.", "Таможенные документы готовит продавец.", "报关单据由卖家准备。"),
    ("A favourite of buyers across the region.", "Любимый товар покупателей всего региона.", "深受整个地区买家喜爱。"),
    ("Made to last, with a one-year warranty.", "Сделано на совесть, гарантия один год.", "经久耐用，保修一年。"),
]


def columns(model) -> list:
    return list(model._meta.concrete_fields)


def row_for(model, values: dict) -> list:
    """A COPY row in the model's column order; columns not given take the field's default."""
    out = []
    for field in columns(model):
        name = field.attname
        if name in values:
            value = values[name]
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        elif field.blank and field.get_internal_type() in ("CharField", "TextField", "SlugField"):
            value = ""
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = NOW
        else:
            raise KeyError(f"{model.__name__}.{name} has no value")
        if isinstance(value, dict | list):
            value = json.dumps(value)
        out.append(value)
    return out


def copy_rows(cursor, model, rows) -> int:
    cols = ", ".join(f'"{f.column}"' for f in columns(model))
    n = 0
    with cursor.copy(f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN') as copy:
        for values in rows:
            copy.write_row(row_for(model, values))
            n += 1
    return n


NOW = datetime.now(UTC)


def generate(products: int, rng: random.Random) -> dict:
    """Load companies, memberships, SKUs, products, translations, listings and stock with COPY."""
    from django.db import connection

    from core.models import Company
    from core.taxids import cn_make, kz_make
    from marketplace import search
    from marketplace.demo import CN_PRICE, GOODS, SIZES
    from marketplace.models import (
        Category,
        Listing,
        Product,
        ProductTranslation,
        SearchTerm,
        Storefront,
        StorefrontMembership,
    )
    from warehouses.models import Sku, StockLevel

    storefronts = {s.code: s for s in Storefront.objects.all()}
    by_country = {}
    for s in storefronts.values():
        by_country.setdefault(s.seller_country_id, []).append(s.code)
    first_warehouse = {code: s.warehouses.order_by("priority", "code").first().code for code, s in storefronts.items()}
    categories = dict(Category.objects.values_list("slug", "id"))

    companies = []
    cid = 0
    for country, count in COMPANIES.items():
        for i in range(count):
            cid += 1
            if country == "KZ":
                tax = next(v for t in range(100) if (v := kz_make(f"{cid:06d}{i:02d}{t:03d}")))
            elif country == "CN":
                tax = cn_make(f"9111000060{cid:07d}")
            else:
                tax = {"UZ": f"{cid:09d}", "TJ": f"{cid:09d}", "KG": f"{cid:014d}", "TM": f"{cid:012d}"}[country]
            companies.append({"id": cid, "name": f"{rng.choice(BRANDS)} {country} Trading {cid}", "country_id": country,
                              "tax_id": tax, "verification": "verified", "needs_manual_check": country == "TM",
                              "created_at": NOW})
    weights = [c["country_id"] == "CN" and 1.6 or 1 for c in companies]
    per_company = [0] * len(companies)
    for _ in range(products):
        per_company[rng.choices(range(len(companies)), weights)[0]] += 1

    words: set[str] = set()
    lid = 0
    skus, prods, texts, listings, levels, searches = [], [], [], [], [], []
    # Sellers add products over time, interleaved: ids must not cluster by company or storefront.
    owners = [company for company, count in zip(companies, per_company, strict=True) for _ in range(count)]
    rng.shuffle(owners)
    made = dict.fromkeys((c["id"] for c in companies), 0)
    for pid, company in enumerate(owners, start=1):
        country = company["country_id"]
        goods = GOODS[country]
        n = made[company["id"]]
        made[company["id"]] += 1
        item = rng.choice(goods)
        (en, ru, zh), (den, dru, dzh) = item[4], item[5]
        adj = rng.choice(ADJECTIVES)
        brand = rng.choice(BRANDS)
        var = rng.choice(item[6] if item[6] else SIZES)
        extra = rng.choice(SENTENCES)
        t_en = f"{brand} {adj[0]} {en.lower() if n % 2 else en}{', ' + var[0] if var[0] else ''}"
        t_ru = f"{brand} {ru}{', ' + var[1] if var[1] else ''}, {adj[1]}"
        t_zh = f"{brand}{adj[2]}{zh}{var[2]}"
        d = (f"{den} {extra[0]}", f"{dru} {extra[1]}", f"{dzh}{extra[2]}")
        title_tokens, body_tokens = search.document([t_en, t_ru, t_zh], d)
        words |= search.lexicon_words(title_tokens) | search.lexicon_words(body_tokens)
        weight = max(1, int(item[3] * var[4]))
        code = f"B{company['id']:03d}-{n:05d}"
        skus.append({"id": pid, "company_id": company["id"], "code": code, "name": t_en[:255], "hs_code": item[1],
                     "origin_country_id": country, "weight_g": weight + 50, "created_at": NOW})
        prods.append({"id": pid, "company_id": company["id"], "sku_id": pid, "sku_code": code, "status": "active",
                      "category_id": categories[item[0]], "hs_code": item[1], "origin_country_id": country,
                      "net_weight_g": weight, "gross_weight_g": weight + 50, "attributes": {"Brand": brand},
                      "created_at": NOW, "updated_at": NOW})
        sf_tokens = " ".join(sorted(search.storefront_token(c) for c in by_country[country]))
        searches.append((pid, title_tokens, body_tokens, sf_tokens))
        for language, title, desc in (("en", t_en, d[0]), ("ru", t_ru, d[1]), ("zh", t_zh, d[2])):
            texts.append({"product_id": pid, "language": language, "title": title[:200], "description": desc})
        base = Decimal(item[2]) * var[3] * Decimal(rng.uniform(0.7, 1.4)).quantize(Decimal("0.01"))
        for code_sf in by_country[country]:
            lid += 1
            currency = storefronts[code_sf].currency_id
            if code_sf in CN_PRICE:
                rate, step = CN_PRICE[code_sf]
                minor = int(max(Decimal(1), (base * rate / step).quantize(Decimal(1))) * step * 100)
            else:
                minor = int((base * 100).quantize(Decimal(1))) - 10
            listings.append({"id": lid, "product_id": pid, "storefront_id": code_sf, "price_minor": max(100, minor),
                             "currency_id": currency, "is_enabled": True, "is_visible": True,
                             "featured": rng.random() < 0.01, "updated_at": NOW})
            if rng.random() < 0.7:
                on_hand = rng.randint(1, 300)
                levels.append({"warehouse_id": first_warehouse[code_sf], "sku_id": pid, "bond_status": "bonded",
                               "on_hand": on_hand, "reserved": rng.randint(0, on_hand), "updated_at": NOW})
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for model, rows in ((Company, companies), (Sku, skus), (Product, prods), (ProductTranslation, texts),
                            (Listing, listings)):
            if model is ProductTranslation:
                rows = [{"id": i + 1, **r} for i, r in enumerate(rows)]
            copy_rows(raw, model, rows)
        seen = set()
        unique_levels = []
        for i, level in enumerate(levels):
            key = (level["warehouse_id"], level["sku_id"])
            if key not in seen:
                seen.add(key)
                unique_levels.append({"id": i + 1, **level})
        copy_rows(raw, StockLevel, unique_levels)
        copy_rows(raw, StorefrontMembership, [
            {"id": i + 1, "company_id": c["id"], "storefront_id": code, "status": "approved", "requested_at": NOW,
             "decided_at": NOW, "note": ""}
            for i, (c, code) in enumerate((c, code) for c in companies for code in by_country[c["country_id"]])])
        copy_rows(raw, SearchTerm, [{"word": w[:64]} for w in sorted(words)])
        # Tokens go to a staging table and the vectors are built in one INSERT ... SELECT (an
        # UPDATE would leave a dead copy of every row); the GIN index is built once at the end.
        cursor.execute("CREATE TEMP TABLE search_staging (product_id bigint, title text, body text, sf text)")
        with raw.copy("COPY search_staging FROM STDIN") as copy:
            for row in searches:
                copy.write_row(row)
        cursor.execute("DROP INDEX IF EXISTS marketplace_productsearch_gin")
        cursor.execute("""
            INSERT INTO marketplace_productsearch (product_id, text, vector)
            SELECT product_id, '',
                   setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B') ||
                   setweight(to_tsvector('simple', sf), 'D')
            FROM search_staging""")
        cursor.execute("CREATE INDEX marketplace_productsearch_gin ON marketplace_productsearch USING gin (vector)")
        for table in ("core_company", "warehouses_sku", "marketplace_product", "marketplace_producttranslation",
                      "marketplace_listing", "warehouses_stocklevel", "marketplace_storefrontmembership"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"companies": len(companies), "products": len(prods), "translations": len(texts),
            "listings": len(listings), "stock_levels": len(unique_levels), "lexicon": len(words)}


def measure(client, urls, n: int) -> dict:
    """p50/p95/p99 in ms over ``n`` requests cycling through ``urls`` (after a warm-up)."""
    for url in urls[:20]:
        client.get(url)
    times = []
    for i in range(n):
        url = urls[i % len(urls)]
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
    times.sort()

    def pct(p):
        return times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))]

    return {"p50": statistics.median(times), "p95": pct(95), "p99": pct(99)}


def benchmark(args, rng: random.Random) -> None:
    """Load the catalogue (unless reused), then time every page and API call."""
    from django.test import Client
    from django.test.utils import override_settings

    t0 = time.perf_counter()
    if not args.reuse:
        scratch.migrate(reference=("core", "payments", "warehouses", "marketplace"))
        t_schema = time.perf_counter() - t0
        counts = generate(args.products, rng)
        t_load = time.perf_counter() - t0 - t_schema
        print(f"schema + reference: {t_schema:.1f} s; generated and loaded in {t_load:.1f} s: {counts}")
        print(f"load target (under 120 s): {'met' if t_load < 120 else 'MISSED'}")

    from marketplace.models import Category, Product, Storefront

    codes = list(Storefront.objects.values_list("code", flat=True))
    slugs = list(Category.objects.filter(parent__isnull=False, products__isnull=False).values_list("slug", flat=True).distinct())
    ids = list(Product.objects.values_list("id", flat=True)[:: max(1, args.products // 2000)])
    words = {"en": ["honey", "apricots", "smartphone", "carpet", "charger", "felt", "cotton", "hony", "walnut"],
             "ru": ["мёд", "курага", "смартфон", "ковёр", "зарядное", "войлочные", "хлопковая", "мед", "орехи"],
             "zh": ["蜂蜜", "杏干", "手机", "地毯", "充电器", "羊毛", "棉", "核桃", "耳机"]}
    sf_of_word = {"en": codes, "ru": codes, "zh": codes}
    urls = {
        "hello-world view": ["/bench/hello/"],
        "storefront page": [f"/s/{c}/" for c in codes],
        "storefront page, filtered": [f"/s/{c}/?category={rng.choice(slugs)}&in_stock=1&ordering=price" for c in codes * 4],
        "API product list": [f"/api/v1/products/?storefront={c}" for c in codes],
        "API filtered list": [f"/api/v1/products/?storefront={c}&category={rng.choice(slugs)}&in_stock=true"
                              f"&price_min=10&ordering=price" for c in codes * 4],
        "product page": [f"/p/{rng.choice(ids)}/" for _ in range(300)],
        "API product detail": [f"/api/v1/products/{rng.choice(ids)}/" for _ in range(300)],
    }
    for language, ws in words.items():
        urls[f"search {language}"] = [f"/api/v1/products/?storefront={rng.choice(sf_of_word[language])}&q={w}"
                                      for w in ws for _ in range(3)]
        urls[f"search page {language}"] = [f"/s/{rng.choice(codes)}/?q={w}" for w in ws]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    results = {}
    with override_settings(ROOT_URLCONF="bench.catalogue.urls", DEBUG=False):
        for name, url_list in urls.items():
            lang = "ru" if name.endswith(" ru") else "zh-hans" if name.endswith(" zh") else "en"
            client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
            results[name] = measure(client, url_list, args.requests)
    hello = results["hello-world view"]["p50"]
    print(f"\n{'what':<28}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p50 / hello':>13}  target")
    for name, r in results.items():
        target = 30 if name.startswith("search") else 50
        verdict = "" if name.startswith("hello") else (
            f"p50<{50}: {'ok' if r['p50'] < 50 else 'MISS'}; p95<{target}: {'ok' if r['p95'] < target else 'miss'}")
        print(f"{name:<28}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}{r['p50'] / hello:>13.1f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="per measured endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database (skip loading)")
    args = parser.parse_args()
    rng = random.Random(2026)

    # The benchmark is one anonymous client firing thousands of requests: not an attack.
    with scratch.database(DB, keep=args.keep, reuse=args.reuse, REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"),
                          API_THROTTLE_ANON="100000000/min", API_THROTTLE_USER="100000000/min"):
        benchmark(args, rng)


if __name__ == "__main__":
    main()
