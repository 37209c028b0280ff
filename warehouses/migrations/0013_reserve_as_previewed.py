"""``warehouses_stock_reserve`` takes the previewed units as they are (bench/checkout/README.md,
eleventh round).

With ``p_expect`` (the allocation preview the order was quoted for, read moments before), the
function ranked every candidate level again, under their locks, only to compare the ranking with
the preview. Now, once the candidate levels are locked as before (in (sku, level id) order), the
units are reserved where the preview says when each previewed level is among them and still holds
what the preview takes from it, the takes cover each line exactly and the country exists: a plain
write, with no ranking (a window over sorted levels) to set up. Otherwise nothing is written and
the ranking statement runs as before, under the same locks, and says why (KV002: elsewhere than
previewed; KV003: short, with the figures). A level better ranked than the previewed one that became available
in between is not preferred: the order keeps the units it was quoted for.
"""

import importlib

from django.db import migrations

from core.migration_ops import sql_by_vendor

BEFORE = importlib.import_module("warehouses.migrations.0011_reserve_in_one_call").PG_FORWARD.replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
RANKING = "    WITH want (sku_id, qty) AS (SELECT * FROM unnest(p_skus, p_qty)),\n    wh AS ("
# The ranking statement's writes (the levels, movements, lines and event of ``plan`` once ``res``
# is inserted), which the as-previewed statement makes the same way.
WRITES = BEFORE[BEFORE.index("    upd AS ("):BEFORE.index("    SELECT (SELECT id FROM res), (SELECT ok FROM ok)")]
AS_PREVIEWED = """    IF p_expect IS NOT NULL THEN
        WITH plan AS MATERIALIZED (
            SELECT l.id, l.sku_id, l.warehouse_id, l.bond_status, e.take
              FROM jsonb_to_recordset(p_expect) AS e(sku_id bigint, warehouse_id text, bond_status text, take int)
              JOIN warehouses_stocklevel l ON l.warehouse_id = e.warehouse_id AND l.sku_id = e.sku_id
                                          AND l.bond_status = e.bond_status
             WHERE l.id = ANY(locked) AND e.take > 0 AND l.on_hand - l.reserved >= e.take),
        res AS (
            INSERT INTO warehouses_reservation (reference, status, buyer_country_id, expires_at, created_at, closed_at)
            SELECT p_reference, 'active', p_country, p_expires, p_at, NULL
             WHERE (SELECT count(*) FROM plan) = jsonb_array_length(p_expect)
               AND (SELECT sum(take) FROM plan) = (SELECT sum(q) FROM unnest(p_qty) q)
               AND NOT EXISTS (SELECT 1 FROM unnest(p_skus, p_qty) AS w(sku_id, qty)
                                WHERE w.qty <> (SELECT coalesce(sum(take), 0) FROM plan WHERE plan.sku_id = w.sku_id))
               AND EXISTS (SELECT 1 FROM core_country WHERE iso2 = p_country)
            ON CONFLICT (reference) DO NOTHING RETURNING id),
""" + WRITES + """        SELECT (SELECT id FROM res), (SELECT count(*) FROM upd), (SELECT count(*) FROM mv), (SELECT count(*) FROM rl),
               (SELECT count(*) FROM ev),
               (SELECT json_agg(json_build_array(sku_id, id, warehouse_id, bond_status, take) ORDER BY sku_id, id) FROM plan)
          INTO o_res_id, o_updated, o_moved, o_lined, o_evented, o_plan;
        IF o_res_id IS NOT NULL THEN
            o_ok := true;
            RETURN;
        END IF;
    END IF;
"""
assert BEFORE.count(RANKING) == 1, "the ranking statement of migration 0011 moved"
AFTER = BEFORE.replace(RANKING, AS_PREVIEWED + RANKING)


class Migration(migrations.Migration):
    dependencies = [("warehouses", "0012_indexes_a_write_needs")]

    operations = [sql_by_vendor({"postgresql": AFTER}, {"postgresql": BEFORE})]
