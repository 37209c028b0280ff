"""Only the indexes a reader uses on the ledger's two append-only tables: every booking writes each.

Gone: the LIKE twins (varchar_pattern_ops) of the transaction's reference and idempotency key,
which Django adds to a db_index or unique text field and which no query here uses; the entry's
index on account alone, which entry_account_idx (account, id DESC) serves as well; and the actor's
index on the many rows without one. Five index writes fewer per two-leg transfer: 3.13 to 3.19k
transfers/s against 2.95 to 3.04k before, 8 workers (bench/ledger, alternated).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import sql_by_vendor

# SQLite alters a column by copying its table, and its triggers are not copied: migration 0002's
# append-only triggers are made again after the copies (and, going back, after those of the reverse).
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER IF NOT EXISTS payments_entry_append_only BEFORE UPDATE ON payments_entry "
    "BEGIN SELECT RAISE(ABORT, 'payments_entry is append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS payments_transaction_append_only BEFORE UPDATE ON payments_transaction "
    "BEGIN SELECT RAISE(ABORT, 'payments_transaction is append-only'); END;",
]

class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0009_json_texts_planned_once'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        sql_by_vendor({}, {"sqlite": SQLITE_APPEND_ONLY}),
        migrations.AlterField(
            model_name='entry',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='payments.account'),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='idempotency_key',
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='reference',
            field=models.CharField(max_length=128),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(fields=['reference'], name='transaction_reference_idx'),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='transaction_actor_idx'),
        ),
        migrations.AddConstraint(
            model_name='transaction',
            constraint=models.UniqueConstraint(fields=('idempotency_key',), name='transaction_key'),
        ),
        sql_by_vendor({"sqlite": SQLITE_APPEND_ONLY}, {}),
    ]
