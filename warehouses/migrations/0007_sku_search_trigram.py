from django.db import migrations

# The operator's stock search matches a fragment anywhere in a SKU's code or name (icontains, i.e.
# UPPER(col) LIKE '%q%'): trigram GIN indexes on UPPER(col) let PostgreSQL answer it without
# reading every SKU. SQLite (the demo) has neither pg_trgm nor GIN: nothing to do there.
FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS sku_code_trgm ON warehouses_sku USING gin (UPPER(code) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS sku_name_trgm ON warehouses_sku USING gin (UPPER(name) gin_trgm_ops);
"""
BACKWARD = """
DROP INDEX IF EXISTS sku_code_trgm;
DROP INDEX IF EXISTS sku_name_trgm;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("warehouses", "0006_stock_page_indexes")]
    operations = [migrations.RunPython(forward, backward)]
