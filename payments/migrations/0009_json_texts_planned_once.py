"""``payments_json_texts`` in PL/pgSQL, where it was an SQL function (PostgreSQL).

Its body aggregates, so PostgreSQL could not inline the SQL function into its caller and planned
its query again at every call: 0.10 ms of server CPU each, five calls per escrow hold, a fifth of
``payments_escrow_hold``. PL/pgSQL keeps the plan of its one query for the connection: 0.01 ms a
call (``pg_stat_user_functions`` on the checkout bench, bench/checkout/README.md). Same arguments,
same answer.
"""

from django.db import migrations

from core.migration_ops import sql_by_vendor

PG_FORWARD = """
CREATE OR REPLACE FUNCTION payments_json_texts(a jsonb) RETURNS text[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN ARRAY(SELECT t.v FROM jsonb_array_elements_text(a) WITH ORDINALITY AS t(v, i) ORDER BY t.i);
END $$;
"""

PG_BACKWARD = """
CREATE OR REPLACE FUNCTION payments_json_texts(a jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(t.v ORDER BY t.i), '{}') FROM jsonb_array_elements_text(a) WITH ORDINALITY AS t(v, i)
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("payments", "0008_escrow_hold_in_one_call")]

    operations = [sql_by_vendor({"postgresql": PG_FORWARD}, {"postgresql": PG_BACKWARD})]
