"""``payments_escrow_hold``: an escrow hold in one call (PostgreSQL).

It books the hold's ledger transaction with ``payments_book`` and, when booked, writes the hold and
its first event. A refusal writes nothing and raises nothing, so a caller's transaction stays
usable; the caller then takes the general path, which answers each refusal (a wallet short or
never credited, an escrow shard not yet opened, a replay).

Its one argument is the request ``payments.services.escrow_hold_request`` builds, as JSON: the
accounts, keys and fingerprint stay payments' Python rules, and a caller higher up (an order's
payment, ``orders_pay``) passes the request through without knowing its fields.
"""

from django.db import migrations

from core.migration_ops import sql_by_vendor

PG_FORWARD = """
-- A JSON array as a text array, in its own order (the legs' arrays are read side by side).
CREATE FUNCTION payments_json_texts(a jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(t.v ORDER BY t.i), '{}') FROM jsonb_array_elements_text(a) WITH ORDINALITY AS t(v, i)
$$;

CREATE FUNCTION payments_escrow_hold(p jsonb, OUT booked_id bigint, OUT outcome text, OUT refused_leg int)
LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz := (p->>'at')::timestamptz;
    hold_id bigint;
BEGIN
    SELECT b.booked_id, b.outcome, b.refused_leg INTO booked_id, outcome, refused_leg
      FROM payments_book(p->>'kind', p->>'reference', p->>'key', p->>'fingerprint', (p->>'actor_id')::bigint,
                         p->>'actor_label', at, '{}'::jsonb,
                         payments_json_texts(p->'owner_kind'), payments_json_texts(p->'owner_id')::bigint[],
                         payments_json_texts(p->'account_kind'), payments_json_texts(p->'currency'),
                         payments_json_texts(p->'minor')::bigint[]) b;
    IF outcome <> 'booked' THEN
        RETURN;
    END IF;
    INSERT INTO payments_escrowhold (reference, payer_kind, payer_id, currency, amount_minor, refunded_minor,
                                     released_minor, commission_minor, settled_minor, payee_kind, payee_id, status,
                                     hold_txn_id, created_at, updated_at)
    VALUES (p->>'reference', p->>'payer_kind', (p->>'payer_id')::bigint, p->>'hold_currency', (p->>'amount')::bigint,
            0, 0, 0, 0, '', NULL, p->>'status', booked_id, at, at)
    RETURNING id INTO hold_id;
    INSERT INTO core_transitionevent (machine, content_type_id, object_id, from_state, to_state, actor_id, actor_label,
                                      at, reason, place, payload)
    VALUES (p->>'machine', (p->>'content_type')::int, hold_id, '', p->>'status', (p->>'actor_id')::int,
            p->>'actor_label', at, '', '', (p->'payload') || jsonb_build_object('txn', booked_id));
END $$;
"""

PG_BACKWARD = """
DROP FUNCTION IF EXISTS payments_escrow_hold(jsonb);
DROP FUNCTION IF EXISTS payments_json_texts(jsonb);
"""


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_book_in_one_call"), ("core", "0001_initial")]

    operations = [sql_by_vendor({"postgresql": PG_FORWARD}, {"postgresql": PG_BACKWARD})]
