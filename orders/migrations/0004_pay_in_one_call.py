"""``orders_pay``: the usual payment of an order in one call (PostgreSQL).

Under the order's row lock it checks that the order is still as the caller read it (placed, its
buyer, its road, its total, its window open), then holds the total in escrow (``payments_escrow_hold``),
stops the reservation's clock (``warehouses_stock_keep``) and moves the order to paid with its event.
Outcome 'paid' with the escrow transaction, or another outcome having written nothing: the caller
then takes the general path, whose answers are the errors. The statuses, the event's fields and
the escrow request come from Python (``orders.services.checkout``): the state machine and the
payment rules stay declared once.
"""

from django.db import migrations

from core.migration_ops import sql_by_vendor

PG_FORWARD = """
CREATE FUNCTION orders_pay(p_order bigint, p_reference text, p_from text, p_to text, p_buyer bigint, p_road text,
                           p_total bigint, p_currency text, p_at timestamptz, p_event jsonb, p_hold jsonb,
                           OUT outcome text, OUT txn_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    o record;
    h record;
BEGIN
    SELECT status, buyer_id, road, total_minor, currency_id, expires_at INTO o
      FROM marketplace_order WHERE id = p_order FOR UPDATE;
    IF NOT FOUND OR o.status <> p_from OR o.buyer_id <> p_buyer OR o.road <> p_road OR o.total_minor <> p_total
       OR o.currency_id <> p_currency OR (o.expires_at IS NOT NULL AND o.expires_at <= p_at) THEN
        outcome := 'moved';
        RETURN;
    END IF;
    SELECT b.booked_id, b.outcome INTO h FROM payments_escrow_hold(p_hold) b;
    IF h.outcome <> 'booked' THEN
        outcome := h.outcome;
        RETURN;
    END IF;
    PERFORM warehouses_stock_keep(p_reference);
    UPDATE marketplace_order SET status = p_to, paid_at = p_at, expires_at = NULL WHERE id = p_order;
    INSERT INTO core_transitionevent (machine, content_type_id, object_id, from_state, to_state, actor_id, actor_label,
                                      at, reason, place, payload)
    VALUES (p_event->>'machine', (p_event->>'content_type')::int, p_order, p_from, p_to, (p_event->>'actor_id')::int,
            p_event->>'actor_label', p_at, '', '', (p_event->'payload') || jsonb_build_object('escrow_txn', h.booked_id));
    outcome := 'paid';
    txn_id := h.booked_id;
END $$;
"""

PG_BACKWARD = "DROP FUNCTION IF EXISTS orders_pay(bigint, text, text, text, bigint, text, bigint, text, timestamptz, jsonb, jsonb);"


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_returns"),
        ("payments", "0008_escrow_hold_in_one_call"),
        ("warehouses", "0010_keep_in_one_call"),
    ]

    operations = [sql_by_vendor({"postgresql": PG_FORWARD}, {"postgresql": PG_BACKWARD})]
