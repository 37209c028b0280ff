"""Only the indexes a reader uses on the stock tables a checkout writes (bench/checkout/README.md,
eighth round).

A reservation updates its stock level's reserved units, an indexed column, so each reservation
writes every index of the level again; each movement, reservation and line writes its own. Gone:
the level's and the movement's warehouse and SKU alone (stock_level_key, stock_level_sku_idx,
movement_warehouse_at_idx and movement_level_idx lead with them), and the LIKE twins
(varchar_pattern_ops) of the reservation's reference and of the warehouse codes, which no query
uses. SQLite alters a column by copying its table without its triggers: the movement's
append-only triggers of migration 0004 are made again after the copies.
"""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_ops import sql_by_vendor

SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER IF NOT EXISTS warehouses_movement_no_update BEFORE UPDATE ON warehouses_movement
       BEGIN SELECT RAISE(ABORT, 'warehouses_movement is append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER IF NOT EXISTS warehouses_movement_no_delete BEFORE DELETE ON warehouses_movement
       BEGIN SELECT RAISE(ABORT, 'warehouses_movement is append-only (DELETE refused)'); END;""",
]


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_indexes_a_write_needs'),
        ('warehouses', '0011_reserve_in_one_call'),
    ]

    operations = [
        sql_by_vendor({}, {"sqlite": SQLITE_APPEND_ONLY}),
        migrations.AlterField(
            model_name='movement',
            name='sku',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='movements', to='warehouses.sku'),
        ),
        migrations.AlterField(
            model_name='movement',
            name='warehouse',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='movements', to='warehouses.warehouse'),
        ),
        migrations.AlterField(
            model_name='reservation',
            name='buyer_country',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.country'),
        ),
        migrations.AlterField(
            model_name='reservation',
            name='reference',
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name='reservationline',
            name='warehouse',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='warehouses.warehouse'),
        ),
        migrations.AlterField(
            model_name='stocklevel',
            name='sku',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='levels', to='warehouses.sku'),
        ),
        migrations.AlterField(
            model_name='stocklevel',
            name='warehouse',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='levels', to='warehouses.warehouse'),
        ),
        migrations.AddIndex(
            model_name='reservationline',
            index=models.Index(fields=['warehouse'], name='reservation_line_warehouse_idx'),
        ),
        migrations.AddConstraint(
            model_name='reservation',
            constraint=models.UniqueConstraint(fields=('reference',), name='reservation_reference_once'),
        ),
        sql_by_vendor({"sqlite": SQLITE_APPEND_ONLY}, {}),
    ]
