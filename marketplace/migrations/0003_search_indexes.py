"""Search indexes, PostgreSQL only (the SQLite demo searches with LIKE and needs none)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class PostgresOnly(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class PostgresTrigramExtension(TrigramExtension):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class Migration(migrations.Migration):

    dependencies = [
        ("marketplace", "0002_catalogue"),
    ]

    operations = [
        PostgresTrigramExtension(),
        PostgresOnly(
            "CREATE INDEX IF NOT EXISTS marketplace_productsearch_gin ON marketplace_productsearch USING gin (vector)",
            "DROP INDEX IF EXISTS marketplace_productsearch_gin",
        ),
        PostgresOnly(
            "CREATE INDEX IF NOT EXISTS marketplace_searchterm_trgm ON marketplace_searchterm USING gin (word gin_trgm_ops)",
            "DROP INDEX IF EXISTS marketplace_searchterm_trgm",
        ),
    ]
