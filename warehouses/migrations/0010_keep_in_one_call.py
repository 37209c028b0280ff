"""``warehouses_stock_keep``: stop an active reservation's expiry clock (its order is paid), in one
call on PostgreSQL, returning what the reservation holds; NULLs when there was nothing to stop (no
such reservation, closed, or already kept), which ``warehouses.services.stock.stock_keep`` then
reads the long way. A function rather than a statement of the caller's, so that a caller higher up
(an order's payment, ``orders_pay``) keeps the reservation without writing warehouses' tables itself.
"""

from django.db import migrations

from core.migration_ops import sql_by_vendor

PG_FORWARD = """
CREATE FUNCTION warehouses_stock_keep(p_reference text, OUT reference text, OUT status text, OUT buyer_country text,
                                      OUT lines json)
LANGUAGE plpgsql AS $$
BEGIN
    WITH kept AS (
        UPDATE warehouses_reservation r SET expires_at = NULL
         WHERE r.reference = p_reference AND r.status = 'active' AND r.expires_at IS NOT NULL
        RETURNING r.id, r.reference, r.status, r.buyer_country_id)
    SELECT kept.reference, kept.status, kept.buyer_country_id,
           (SELECT json_agg(json_build_array(l.sku_id, l.warehouse_id, l.bond_status, l.quantity, l.shipped_at IS NOT NULL)
                            ORDER BY l.sku_id, l.level_id)
              FROM warehouses_reservationline l WHERE l.reservation_id = kept.id)
      INTO reference, status, buyer_country, lines
      FROM kept;
END $$;
"""

PG_BACKWARD = "DROP FUNCTION IF EXISTS warehouses_stock_keep(text);"


class Migration(migrations.Migration):
    dependencies = [("warehouses", "0009_consignment_customs_machine")]

    operations = [sql_by_vendor({"postgresql": PG_FORWARD}, {"postgresql": PG_BACKWARD})]
