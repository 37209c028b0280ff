from django.db import migrations

# The ledger is append-only: the database itself refuses UPDATE and DELETE of a movement, so no
# code path (admin, shell, a bug) can rewrite history. TRUNCATE (test teardown) is unaffected.
FORWARD = """
CREATE OR REPLACE FUNCTION warehouses_movement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'warehouses_movement is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER warehouses_movement_append_only
    BEFORE UPDATE OR DELETE ON warehouses_movement
    FOR EACH ROW EXECUTE FUNCTION warehouses_movement_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS warehouses_movement_append_only ON warehouses_movement;
DROP FUNCTION IF EXISTS warehouses_movement_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("warehouses", "0003_ledger_reservations_consignments")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
