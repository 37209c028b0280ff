from django.db import migrations

from core.migration_ops import sql_by_vendor

# The ledger is append-only: the database itself refuses UPDATE and DELETE of a movement, so no
# code path (admin, shell, a bug) can rewrite history. TRUNCATE (test teardown) is unaffected.
POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION warehouses_movement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'warehouses_movement is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER warehouses_movement_append_only
    BEFORE UPDATE OR DELETE ON warehouses_movement
    FOR EACH ROW EXECUTE FUNCTION warehouses_movement_append_only();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS warehouses_movement_append_only ON warehouses_movement;
DROP FUNCTION IF EXISTS warehouses_movement_append_only();
"""
# SQLite (the demo) has no OR in trigger events and no plpgsql: one trigger per operation.
SQLITE_FORWARD = [
    """CREATE TRIGGER IF NOT EXISTS warehouses_movement_no_update BEFORE UPDATE ON warehouses_movement
       BEGIN SELECT RAISE(ABORT, 'warehouses_movement is append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER IF NOT EXISTS warehouses_movement_no_delete BEFORE DELETE ON warehouses_movement
       BEGIN SELECT RAISE(ABORT, 'warehouses_movement is append-only (DELETE refused)'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS warehouses_movement_no_update;",
    "DROP TRIGGER IF EXISTS warehouses_movement_no_delete;",
]



class Migration(migrations.Migration):
    dependencies = [("warehouses", "0003_ledger_reservations_consignments")]
    operations = [sql_by_vendor({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}, {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD})]
