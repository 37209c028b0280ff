from django.db import migrations

from core.migration_ops import sql_by_vendor

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



class Migration(migrations.Migration):
    dependencies = [("warehouses", "0006_stock_page_indexes")]
    operations = [sql_by_vendor({"postgresql": FORWARD}, {"postgresql": BACKWARD})]
