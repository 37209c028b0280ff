"""Only the indexes a reader uses on orders and their lines (bench/checkout/README.md, eighth round).

An order writes every index at placement and again at each change of status (status is indexed,
so no update is HOT). Gone: buyer and company alone (order_buyer_idx and order_company_idx lead
with them), the line's order (order_line_position_once leads with it), and the storefront,
currency and countries with their LIKE twins: reference rows, never deleted while orders point at
them, by which no page lists orders. Twelve indexes on an order become four, eight on a line five.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_indexes_a_write_needs'),
        ('marketplace', '0011_listing_sort_indexes'),
        ('orders', '0004_pay_in_one_call'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='order',
            name='buyer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='order',
            name='company',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='core.company'),
        ),
        migrations.AlterField(
            model_name='order',
            name='currency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.currency'),
        ),
        migrations.AlterField(
            model_name='order',
            name='ship_to_country',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.country'),
        ),
        migrations.AlterField(
            model_name='order',
            name='storefront',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='marketplace.storefront'),
        ),
        migrations.AlterField(
            model_name='orderline',
            name='order',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='orders.order'),
        ),
        migrations.AlterField(
            model_name='orderline',
            name='origin_country',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.country'),
        ),
    ]
