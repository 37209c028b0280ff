"""Only the indexes a reader uses on escrow holds: the reference's unique index without its LIKE
twin (a constraint instead of unique=True), and none on the hold's ledger transaction, which is
never deleted and by which no query looks a hold up."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0012_account_key_rules_on_insert'),
    ]

    operations = [
        migrations.AlterField(
            model_name='escrowhold',
            name='hold_txn',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='payments.transaction'),
        ),
        migrations.AlterField(
            model_name='escrowhold',
            name='reference',
            field=models.CharField(max_length=128),
        ),
        migrations.AddConstraint(
            model_name='escrowhold',
            constraint=models.UniqueConstraint(fields=('reference',), name='escrow_reference_once'),
        ),
    ]
