"""Catalogue benchmark: 100,000 products, then p50/p95/p99 of the pages and API calls buyers make,
beside a hello-world Django view measured in the same run.

Runs against a database it creates and drops itself (karavan_bench_catalogue), never the demo or
test database. Requests go through Django's test client in this process (the whole middleware
stack, templates, serializers; no network), so the ratio to hello-world is what the catalogue adds.
Prints figures; asserts nothing about timings (it exits 1 only when the loaded search vectors
differ from those the product code builds).

The load is set-based: a few hundred companies with COPY, then one INSERT ... SELECT over
generate_series per table, with the indexes and constraints built after and ANALYZE at the end
(a million products in minutes).

    .venv/bin/python bench/catalogue/run.py [--products 100000] [--requests 200] [--keep] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from contextlib import contextmanager
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


def default_for(model, field):
    """The value of a column not given: the field's default, else NULL, '' or now."""
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if field.blank and field.get_internal_type() in ("CharField", "TextField", "SlugField"):
        return ""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return NOW
    raise KeyError(f"{model.__name__}.{field.attname} has no value")


def row_for(model, values: dict) -> list:
    """A COPY row in the model's column order; columns not given take the field's default."""
    out = []
    for field in columns(model):
        value = values[field.attname] if field.attname in values else default_for(model, field)
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
# The tables the products fill: their secondary indexes and constraints are built after the load.
LOADED = ["warehouses_sku", "marketplace_product", "marketplace_producttranslation", "marketplace_listing",
          "warehouses_stocklevel", "marketplace_productsearch"]


def insert_select(cursor, model, exprs: dict[str, str], tail: str) -> int:
    """INSERT INTO the model's table SELECT ``exprs`` (column -> SQL expression, "%%" for a "%")
    ``tail``: one statement for every row. Columns not named take the field's default (as
    :func:`row_for`), an ``id`` left out the table's identity."""
    names, values, defaults = [], [], []
    for field in columns(model):
        if field.attname in exprs:
            names.append(field.column)
            values.append(exprs[field.attname])
        elif field.attname != "id":
            names.append(field.column)
            default = default_for(model, field)
            json_field = field.get_internal_type() == "JSONField"
            values.append("%s::jsonb" if json_field else "%s")
            defaults.append(json.dumps(default) if json_field else default)
    cols = ", ".join(f'"{n}"' for n in names)
    started = time.perf_counter()
    cursor.execute(f'INSERT INTO "{model._meta.db_table}" ({cols}) SELECT {", ".join(values)} {tail}',
                   defaults)
    print(f"  {model._meta.db_table}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    return cursor.rowcount


@contextmanager
def indexes_after(cursor, tables: list[str]):
    """Drop the secondary indexes and the unique and foreign-key constraints of ``tables``, and
    build each again afterwards in one pass over the loaded rows: keeping a dozen indexes per
    row as it arrives, and queueing a deferred foreign-key check per row, is what would make a
    million products take an hour. The primary keys stay."""
    cursor.execute("""SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint
                      WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')""", [tables])
    constraints = cursor.fetchall()
    cursor.execute("""SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i
                      WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                                      AND c.conrelid = i.indrelid)""", [tables])
    indexes = cursor.fetchall()
    for table, name, _definition, _kind in sorted(constraints, key=lambda c: c[3] != "f"):  # foreign keys first
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    started = time.perf_counter()
    for _name, definition in indexes:
        cursor.execute(definition)
    print(f"  {len(indexes)} indexes built in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    for table, name, definition, _kind in sorted(constraints, key=lambda c: c[3] == "f"):  # unique ones first
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    print(f"  {len(constraints)} unique and foreign-key constraints added (and checked) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)


def vocabulary() -> tuple[list[tuple], set[str]]:
    """Every (goods item, variant, adjective, sentence) of each country: its texts without the
    brand, and their search tokens as marketplace.search cuts them. A product is one of these
    plus a brand; SQL puts them together, so no text is built in Python per product."""
    from marketplace import search
    from marketplace.demo import GOODS, SIZES

    models, words = [], set()
    for country, goods in GOODS.items():
        for i, item in enumerate(goods):
            (en, ru, zh), (den, dru, dzh) = item[4], item[5]
            variants = item[6] if item[6] else SIZES
            for v, var in enumerate(variants):
                for a, adj in enumerate(ADJECTIVES):
                    en_rest = f"{adj[0]} {en}{', ' + var[0] if var[0] else ''}"
                    en_lower = f"{adj[0]} {en.lower()}{', ' + var[0] if var[0] else ''}"
                    ru_rest = f"{ru}{', ' + var[1] if var[1] else ''}, {adj[1]}"
                    zh_rest = f"{adj[2]}{zh}{var[2]}"
                    for s, extra in enumerate(SENTENCES):
                        d = (f"{den} {extra[0]}", f"{dru} {extra[1]}", f"{dzh}{extra[2]}")
                        toks = [search.token_text([t]) for t in (en_rest, ru_rest, zh_rest)]
                        body = search.token_text(d)
                        words |= search.lexicon_words(" ".join(toks)) | search.lexicon_words(body)
                        models.append((country, i, len(variants), v, a, s, item[0], item[1],
                                       Decimal(item[2]) * var[3], max(1, int(item[3] * var[4])),
                                       en_rest, en_lower, ru_rest, zh_rest, *d, *toks, body))
    for brand in BRANDS:
        words |= search.lexicon_words(search.token_text([brand]))
    return models, words


def generate(products: int, rng: random.Random) -> dict:
    """Load companies and memberships with COPY (a few hundred rows), then SKUs, products,
    translations, listings, stock and search vectors set-based: one INSERT ... SELECT over
    generate_series per table, drawing from the vocabulary with the session's seeded random()."""
    from django.db import connection

    from core.models import Company
    from core.taxids import cn_make, kz_make
    from marketplace import search
    from marketplace.demo import CN_PRICE
    from marketplace.models import (
        Category,
        Listing,
        Product,
        ProductSearch,
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
    # A Chinese seller lists 1.6 times as much as the others: slots drawn uniformly, 8 against 5.
    slots = [c["id"] for c in companies for _ in range(8 if c["country_id"] == "CN" else 5)]
    models, words = vocabulary()

    with connection.cursor() as cursor:
        raw = cursor.cursor
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SELECT setseed(%s)", [rng.random() * 2 - 1])
        copy_rows(raw, Company, companies)
        copy_rows(raw, StorefrontMembership, [
            {"id": i + 1, "company_id": c["id"], "storefront_id": code, "status": "approved", "requested_at": NOW,
             "decided_at": NOW, "note": ""}
            for i, (c, code) in enumerate((c, code) for c in companies for code in by_country[c["country_id"]])])
        copy_rows(raw, SearchTerm, [{"word": w[:64]} for w in sorted(words)])

        cursor.execute("""CREATE TEMP TABLE bench_model (id serial PRIMARY KEY, country text, item int, n_vars int, var int,
            adj int, sent int, category text, hs_code text, price numeric, weight int, en_rest text, en_lower text,
            ru_rest text, zh_rest text, d_en text, d_ru text, d_zh text, en_tok text, ru_tok text, zh_tok text, body_tok text)""")
        with raw.copy("COPY bench_model (country, item, n_vars, var, adj, sent, category, hs_code, price, weight, en_rest,"
                      " en_lower, ru_rest, zh_rest, d_en, d_ru, d_zh, en_tok, ru_tok, zh_tok, body_tok) FROM STDIN") as copy:
            for row in models:
                copy.write_row(row)
        cursor.execute("CREATE TEMP TABLE bench_brand (id int PRIMARY KEY, name text, tok text)")
        with raw.copy("COPY bench_brand FROM STDIN") as copy:
            for i, brand in enumerate(BRANDS):
                copy.write_row((i, brand, search.token_text([brand])))
        cursor.execute("CREATE TEMP TABLE bench_country (country text PRIMARY KEY, n_items int, sf_tok text)")
        with raw.copy("COPY bench_country FROM STDIN") as copy:
            for country, codes in by_country.items():
                n_items = len({m[1] for m in models if m[0] == country})
                copy.write_row((country, n_items, " ".join(sorted(search.storefront_token(c) for c in codes))))
        cursor.execute("CREATE TEMP TABLE bench_storefront (code text, country text, currency text, rate numeric, step int)")
        with raw.copy("COPY bench_storefront FROM STDIN") as copy:
            for code, s in storefronts.items():
                rate, step = CN_PRICE.get(code, (None, None))
                copy.write_row((code, s.seller_country_id, s.currency_id, rate, step))
        cursor.execute("CREATE TEMP TABLE bench_warehouse (country text, warehouse text)")
        with raw.copy("COPY bench_warehouse FROM STDIN") as copy:
            for country, codes in by_country.items():
                for warehouse in sorted({first_warehouse[c] for c in codes}):
                    copy.write_row((country, warehouse))
        cursor.execute("CREATE TEMP TABLE bench_category (slug text PRIMARY KEY, id bigint)")
        with raw.copy("COPY bench_category FROM STDIN") as copy:
            for row in categories.items():
                copy.write_row(row)
        # One row per product: its company, its model (item, then variant within it, adjective,
        # sentence), brand and price factor. Sellers add products over time, interleaved: ids do
        # not cluster by company or storefront.
        cursor.execute("""
            CREATE TEMP TABLE bench_gen AS
            WITH r AS MATERIALIZED (
                SELECT g AS pid, (%s::bigint[])[1 + floor(random() * %s)::int] AS company_id, random() AS r_item,
                       random() AS r_var, floor(random() * 12)::int AS adj, floor(random() * 5)::int AS sent,
                       floor(random() * %s)::int AS brand, round((0.7 + random() * 0.7)::numeric, 2) AS f
                FROM generate_series(1, %s) g)
            SELECT r.pid, r.company_id, c.country_id AS country, m.id AS model, r.brand, r.f
            FROM r JOIN core_company c ON c.id = r.company_id
            JOIN bench_country n ON n.country = c.country_id
            JOIN bench_model m ON m.country = c.country_id AND m.item = floor(r.r_item * n.n_items)::int
                 AND m.var = floor(r.r_var * m.n_vars)::int AND m.adj = r.adj AND m.sent = r.sent""",
                       [slots, len(slots), len(BRANDS), products])
        cursor.execute("ALTER TABLE bench_gen ADD PRIMARY KEY (pid)")
        cursor.execute("ANALYZE bench_gen")
        cursor.execute("ANALYZE bench_model")
        base = ("FROM bench_gen g JOIN bench_model m ON m.id = g.model JOIN bench_brand b ON b.id = g.brand "
                "JOIN bench_category k ON k.slug = m.category")
        t_en = "b.name || ' ' || CASE WHEN g.pid %% 2 = 1 THEN m.en_lower ELSE m.en_rest END"
        t_ru = "b.name || ' ' || m.ru_rest"
        t_zh = "b.name || m.zh_rest"
        code = "'B' || lpad(g.company_id::text, 3, '0') || '-' || lpad(g.pid::text, 7, '0')"
        counts = {}
        with indexes_after(cursor, LOADED):
            insert_select(cursor, Sku, {
                "id": "g.pid", "company_id": "g.company_id", "code": code, "name": f"left({t_en}, 255)",
                "hs_code": "m.hs_code", "origin_country_id": "g.country", "weight_g": "m.weight + 50",
                "created_at": "now()"}, base)
            counts["products"] = insert_select(cursor, Product, {
                "id": "g.pid", "company_id": "g.company_id", "sku_id": "g.pid", "sku_code": code, "status": "'active'",
                "category_id": "k.id", "hs_code": "m.hs_code", "origin_country_id": "g.country",
                "net_weight_g": "m.weight", "gross_weight_g": "m.weight + 50",
                "attributes": "jsonb_build_object('Brand', b.name)", "created_at": "now()", "updated_at": "now()"},
                base)
            counts["translations"] = insert_select(cursor, ProductTranslation, {
                "product_id": "g.pid", "language": "l.language",
                "title": f"left(CASE l.language WHEN 'en' THEN {t_en} WHEN 'ru' THEN {t_ru} ELSE {t_zh} END, 200)",
                "description": "CASE l.language WHEN 'en' THEN m.d_en WHEN 'ru' THEN m.d_ru ELSE m.d_zh END"},
                base + " CROSS JOIN (VALUES (1, 'en'), (2, 'ru'), (3, 'zh')) l(n, language) ORDER BY g.pid, l.n")
            # Pavilions price in CNY as the seller set it; the China-goods storefronts convert
            # and round to their currency's step (marketplace.demo.CN_PRICE).
            counts["listings"] = insert_select(cursor, Listing, {
                "product_id": "g.pid", "storefront_id": "s.code", "currency_id": "s.currency", "category_id": "k.id",
                "price_minor": "CASE WHEN s.rate IS NULL THEN greatest(100, round(m.price * g.f * 100) - 10)"
                               " ELSE greatest(100, greatest(1, round(m.price * g.f * s.rate / s.step)) * s.step * 100) END",
                "is_enabled": "true", "is_visible": "true", "featured": "random() < 0.01", "updated_at": "now()"},
                base + " JOIN bench_storefront s ON s.country = g.country ORDER BY g.pid, s.code")
            # About 70 % of the products have stock in the first warehouse of their storefronts.
            counts["stock_levels"] = insert_select(cursor, StockLevel, {
                "sku_id": "pid", "warehouse_id": "warehouse", "bond_status": "'bonded'", "on_hand": "on_hand",
                "reserved": "floor(random() * (on_hand + 1))::int", "updated_at": "now()"},
                """FROM (SELECT g.pid, w.warehouse, 1 + floor(random() * 300)::int AS on_hand, random() AS r
                         FROM bench_gen g JOIN bench_warehouse w ON w.country = g.country OFFSET 0) s
                   WHERE r < 0.7 ORDER BY pid, warehouse""")
            # The vector as marketplace.services.indexing writes it: titles A, descriptions B,
            # the storefronts' tokens D. Each part is parsed once per model, brand or country and
            # the parts joined with ||, which numbers the positions on as one parse of the whole
            # text would (check_search_rows compares): parsing a million texts took 160 s.
            cursor.execute("ALTER TABLE bench_model ADD en_v tsvector, ADD ru_v tsvector, ADD zh_v tsvector, ADD body_v tsvector")
            cursor.execute("UPDATE bench_model SET en_v = to_tsvector('simple', en_tok), ru_v = to_tsvector('simple', ru_tok),"
                           " zh_v = to_tsvector('simple', zh_tok), body_v = setweight(to_tsvector('simple', body_tok), 'B')")
            cursor.execute("ALTER TABLE bench_brand ADD v tsvector")
            cursor.execute("UPDATE bench_brand SET v = to_tsvector('simple', tok)")
            cursor.execute("ALTER TABLE bench_country ADD v tsvector")
            cursor.execute("UPDATE bench_country SET v = setweight(to_tsvector('simple', sf_tok), 'D')")
            insert_select(cursor, ProductSearch, {
                "product_id": "g.pid", "text": "''",
                "vector": "setweight(b.v || m.en_v || b.v || m.ru_v || b.v || m.zh_v, 'A') || m.body_v || n.v"},
                base + " JOIN bench_country n ON n.country = g.country")
        for table in ("core_company", "warehouses_sku", "marketplace_product", "marketplace_producttranslation",
                      "marketplace_listing", "warehouses_stocklevel", "marketplace_storefrontmembership"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        for table in ("bench_gen", "bench_model", "bench_brand", "bench_country", "bench_storefront", "bench_warehouse",
                      "bench_category"):
            cursor.execute(f"DROP TABLE {table}")
        started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE " + ", ".join(["core_company", "marketplace_storefrontmembership",
                                                       "marketplace_searchterm", *LOADED]))
        print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)
    check_search_rows(rng, products)
    return {"companies": len(companies), **counts, "lexicon": len(words)}


def check_search_rows(rng: random.Random, products: int) -> None:
    """The vectors built in SQL must be those marketplace.services.indexing builds from the same
    texts: rebuilt for a sample with the product code and compared (exit 1 otherwise)."""
    from django.db import connection

    from marketplace import search
    from marketplace.models import Listing, ProductSearch, ProductTranslation

    sample = sorted(rng.sample(range(1, products + 1), min(products, 200)))
    texts: dict[int, tuple[list, list, list]] = {pk: ([], [], []) for pk in sample}
    for pk, title, description in ProductTranslation.objects.filter(product_id__in=sample).order_by("id").values_list(
            "product_id", "title", "description"):
        texts[pk][0].append(title)
        texts[pk][1].append(description)
    for pk, code in Listing.objects.filter(product_id__in=sample, is_visible=True).values_list("product_id", "storefront_id"):
        texts[pk][2].append(search.storefront_token(code))
    stored = dict(ProductSearch.objects.filter(product_id__in=sample).values_list("product_id", "vector"))
    with connection.cursor() as cursor:
        for pk, (titles, bodies, storefronts) in texts.items():
            title_tokens, body_tokens = search.document(titles, bodies)
            cursor.execute("SELECT (setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B')"
                           " || setweight(to_tsvector('simple', %s), 'D'))::text",
                           [title_tokens, body_tokens, " ".join(sorted(storefronts))])
            if cursor.fetchone()[0] != stored.get(pk):
                raise SystemExit(f"product {pk}: the loaded search vector differs from the product code's")


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
        # Two minutes for 100,000 products; a million in minutes, not hours (ten at most).
        target = 120 if args.products <= 100_000 else 600
        print(f"load target (under {target} s): {'met' if t_load < target else 'MISSED'}")

    from marketplace.models import Category, Product, Storefront

    codes = list(Storefront.objects.values_list("code", flat=True))
    slugs = list(Category.objects.filter(parent__isnull=False, products__isnull=False).values_list("slug", flat=True).distinct())
    # Product ids run from 1 without gaps (set by the load): drawn, not read (a million rows).
    last = Product.objects.order_by("-id").values_list("id", flat=True).first() or 1
    ids = [rng.randint(1, last) for _ in range(300)]
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
    # The must: p50 under 50 ms at 100,000 products; the aim: p95 under 30 ms, under 50 ms at 1,000,000.
    target = 50 if last >= 1_000_000 else 30
    print(f"\ncatalogue of {last:,} products")
    print(f"\n{'what':<28}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p50 / hello':>13}  target")
    for name, r in results.items():
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
