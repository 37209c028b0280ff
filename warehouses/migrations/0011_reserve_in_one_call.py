"""``warehouses_stock_reserve``: a reservation in one call (PostgreSQL), where it took two round trips.

Two statements inside, as before: the candidate levels locked in (sku, level id) order, then the
statement that plans, checks and writes (``warehouses.services.stock``, above ``_RESERVE_SQL``,
says why they are two). In a function each statement still takes its own snapshot, the second after
the first's locks, and the caller needs no transaction of its own for the locks to last: the call
is one statement. It writes nothing unless every line is covered and returns what the caller needs
to answer either way.

``p_expect`` (the allocation preview's lines, or NULL): the reservation must land exactly there, or
the call fails, so that the caller's statement it is part of writes nothing either (an order placed
with the landed cost of the preview: ``orders.services.checkout``). SQLSTATE KV002: the units were
there, but elsewhere than previewed (another buyer took those units meanwhile); KV003: refused (short
stock, an unknown SKU...), with what the caller needs to say why in the error's DETAIL, as JSON.
"""

from django.db import migrations

from core.migration_ops import sql_by_vendor

PG_FORWARD = """
CREATE FUNCTION warehouses_stock_reserve(
    p_reference text, p_skus bigint[], p_qty int[], p_codes text[], p_country text, p_expires timestamptz,
    p_at timestamptz, p_actor_id bigint, p_actor_label text, p_machine text, p_ct int, p_expect jsonb,
    OUT o_res_id bigint, OUT o_ok boolean, OUT o_updated bigint, OUT o_moved bigint, OUT o_lined bigint,
    OUT o_evented bigint, OUT o_known json, OUT o_got json, OUT o_plan json, OUT o_prior bigint)
LANGUAGE plpgsql AS $$
DECLARE
    locked bigint[];
BEGIN
    SELECT coalesce(array_agg(c.id), '{}') INTO locked FROM (
        SELECT l.id FROM warehouses_stocklevel l JOIN warehouses_warehouse w ON w.code = l.warehouse_id
         WHERE l.sku_id = ANY(p_skus) AND w.code = ANY(p_codes) AND w.is_active AND l.on_hand > l.reserved
         ORDER BY l.sku_id, l.id
           FOR UPDATE OF l) c;
    WITH want (sku_id, qty) AS (SELECT * FROM unnest(p_skus, p_qty)),
    wh AS (SELECT code, country_id, priority FROM warehouses_warehouse WHERE code = ANY(p_codes) AND is_active),
    lv AS MATERIALIZED (
        SELECT l.id, l.sku_id, l.warehouse_id, l.bond_status, l.on_hand - l.reserved AS available
          FROM warehouses_stocklevel l
         WHERE l.id = ANY(locked) AND l.on_hand > l.reserved),
    ranked AS (
        SELECT lv.*, want.qty, sum(lv.available) OVER (
                   PARTITION BY lv.sku_id
                   ORDER BY wh.country_id <> p_country, lv.bond_status <> 'released', wh.priority, lv.warehouse_id
                   ROWS UNBOUNDED PRECEDING) AS upto
          FROM lv JOIN want ON want.sku_id = lv.sku_id JOIN wh ON wh.code = lv.warehouse_id),
    plan AS (
        SELECT id, sku_id, warehouse_id, bond_status, least(available, qty - (upto - available)) AS take
          FROM ranked WHERE upto - available < qty),
    got AS (
        SELECT want.sku_id, want.qty, coalesce((SELECT sum(take) FROM plan WHERE plan.sku_id = want.sku_id), 0) AS taken,
               coalesce((SELECT sum(available) FROM lv WHERE lv.sku_id = want.sku_id), 0) AS available
          FROM want),
    known AS (
        SELECT (SELECT count(*) FROM warehouses_sku WHERE id IN (SELECT sku_id FROM want)) AS skus,
               (SELECT count(*) FROM wh) AS warehouses,
               (SELECT count(*) FROM core_country WHERE iso2 = p_country) AS countries),
    ok AS (
        SELECT (SELECT bool_and(taken = qty) FROM got) AND skus = (SELECT count(*) FROM want) AND warehouses > 0
               AND countries = 1 AS ok FROM known),
    res AS (
        INSERT INTO warehouses_reservation (reference, status, buyer_country_id, expires_at, created_at, closed_at)
        SELECT p_reference, 'active', p_country, p_expires, p_at, NULL WHERE (SELECT ok FROM ok)
        ON CONFLICT (reference) DO NOTHING RETURNING id),
    upd AS (
        UPDATE warehouses_stocklevel s SET reserved = s.reserved + plan.take, updated_at = p_at
          FROM plan WHERE s.id = plan.id AND s.on_hand - s.reserved >= plan.take AND EXISTS (SELECT 1 FROM res)
        RETURNING s.id),
    mv AS (
        INSERT INTO warehouses_movement (warehouse_id, sku_id, bond_status, kind, quantity, on_hand_delta, reserved_delta,
                                         reason, note, reference, actor_id, actor_label, at)
        SELECT warehouse_id, sku_id, bond_status, 'reserve', take, 0, take, '', '', p_reference, p_actor_id, p_actor_label, p_at
          FROM plan WHERE EXISTS (SELECT 1 FROM res)
        RETURNING 1),
    rl AS (
        INSERT INTO warehouses_reservationline (reservation_id, level_id, sku_id, warehouse_id, bond_status, quantity, shipped_at)
        SELECT res.id, plan.id, plan.sku_id, plan.warehouse_id, plan.bond_status, plan.take, NULL FROM plan CROSS JOIN res
        RETURNING 1),
    ev AS (
        INSERT INTO core_transitionevent (machine, content_type_id, object_id, from_state, to_state, actor_id, actor_label,
                                          at, reason, place, payload)
        SELECT p_machine, p_ct, res.id, '', 'active', p_actor_id, p_actor_label, p_at, '', '', '{}'::jsonb FROM res
        RETURNING 1)
    SELECT (SELECT id FROM res), (SELECT ok FROM ok), (SELECT count(*) FROM upd), (SELECT count(*) FROM mv),
           (SELECT count(*) FROM rl), (SELECT count(*) FROM ev), (SELECT row_to_json(known) FROM known),
           (SELECT json_agg(json_build_array(sku_id, qty, taken, available) ORDER BY sku_id) FROM got),
           (SELECT json_agg(json_build_array(sku_id, id, warehouse_id, bond_status, take) ORDER BY sku_id, id) FROM plan),
           (SELECT id FROM warehouses_reservation WHERE reference = p_reference)
          INTO o_res_id, o_ok, o_updated, o_moved, o_lined, o_evented, o_known, o_got, o_plan, o_prior;
    IF p_expect IS NOT NULL AND o_res_id IS NULL THEN
        RAISE EXCEPTION 'reservation % refused', p_reference USING ERRCODE = 'KV003',
            DETAIL = json_build_object('o_res_id', NULL, 'o_known', o_known, 'o_got', o_got, 'o_plan', o_plan,
                                       'o_prior', o_prior)::text;
    END IF;
    IF p_expect IS NOT NULL AND (EXISTS (
            (SELECT (t->>0)::bigint, t->>2, t->>3, (t->>4)::int FROM json_array_elements(o_plan) t
             EXCEPT ALL
             SELECT * FROM jsonb_to_recordset(p_expect) AS x(sku_id bigint, warehouse_id text, bond_status text, take int))
            UNION ALL
            (SELECT * FROM jsonb_to_recordset(p_expect) AS x(sku_id bigint, warehouse_id text, bond_status text, take int)
             EXCEPT ALL
             SELECT (t->>0)::bigint, t->>2, t->>3, (t->>4)::int FROM json_array_elements(o_plan) t))) THEN
        RAISE EXCEPTION 'reservation % did not land as previewed', p_reference USING ERRCODE = 'KV002';
    END IF;
END $$;
"""

PG_BACKWARD = """
DROP FUNCTION IF EXISTS warehouses_stock_reserve(text, bigint[], int[], text[], text, timestamptz, timestamptz, bigint,
    text, text, int, jsonb);
"""


class Migration(migrations.Migration):
    dependencies = [("warehouses", "0010_keep_in_one_call")]

    operations = [sql_by_vendor({"postgresql": PG_FORWARD}, {"postgresql": PG_BACKWARD})]
