from django.db import migrations

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


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # params=None: the SQL is sent as is (its "%" is plpgsql's, not a placeholder).
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("warehouses", "0003_ledger_reservations_consignments")]
    operations = [migrations.RunPython(forward, backward)]
