"""Raw SQL in migrations that differs per database (triggers, trigram indexes): PostgreSQL in
production and tests, SQLite in the zero-setup demo. A vendor missing from the mapping runs nothing."""

from django.db import migrations


def _runner(statements: dict[str, str | list[str]]):
    def run(apps, schema_editor):
        sql = statements.get(schema_editor.connection.vendor, [])
        for statement in [sql] if isinstance(sql, str) else sql:
            # params=None: plpgsql bodies contain '%' that must not be read as placeholders.
            schema_editor.execute(statement, params=None)

    return run


def sql_by_vendor(forward: dict[str, str | list[str]], backward: dict[str, str | list[str]]) -> migrations.RunPython:
    """``forward``/``backward`` map a vendor ("postgresql", "sqlite") to its statement(s)."""
    return migrations.RunPython(_runner(forward), _runner(backward))
