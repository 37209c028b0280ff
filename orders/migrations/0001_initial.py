"""Orders move from the marketplace app to their own: the models change app, the tables stay.

State only: the tables ``marketplace_order`` and ``marketplace_orderline`` keep their names, rows,
constraints and indexes. The content types are renamed in place, so that the transition events
already stored (``core.TransitionEvent``) still point at their orders.
"""

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


def rename_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("order", "orderline"):
        if not ContentType.objects.filter(app_label="orders", model=model).exists():
            ContentType.objects.filter(app_label="marketplace", model=model).update(app_label="orders")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("order", "orderline"):
        if not ContentType.objects.filter(app_label="marketplace", model=model).exists():
            ContentType.objects.filter(app_label="orders", model=model).update(app_label="marketplace")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0002_company'),
        ('marketplace', '0004_orders'),
        ('warehouses', '0007_sku_search_trigram'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Order',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('placed', 'Placed'), ('paid', 'Paid'), ('picking', 'Picking'), ('packed', 'Packed'), ('shipped', 'Shipped'), ('in_transit', 'In transit'), ('at_customs', 'At customs'), ('cleared', 'Cleared by customs'), ('delivered', 'Delivered'), ('cancelled', 'Cancelled'), ('expired', 'Expired'), ('customs_rejected', 'Rejected by customs'), ('returned', 'Returned')], default='placed', max_length=20)),
                        ('goods_minor', models.BigIntegerField(default=0)),
                        ('shipping_minor', models.BigIntegerField(default=0)),
                        ('taxes_minor', models.BigIntegerField(default=0)),
                        ('total_minor', models.BigIntegerField(default=0)),
                        ('regime', models.CharField(blank=True, max_length=32)),
                        ('landed_cost', models.JSONField(blank=True, default=dict)),
                        ('source_warehouse', models.CharField(blank=True, max_length=8)),
                        ('ship_to_city', models.CharField(max_length=100)),
                        ('ship_to_address', models.CharField(max_length=300)),
                        ('ship_to_postal_code', models.CharField(blank=True, max_length=20)),
                        ('ship_to_name', models.CharField(max_length=150)),
                        ('ship_to_phone', models.CharField(max_length=32)),
                        ('tracking_numbers', models.JSONField(blank=True, default=list)),
                        ('placed_at', models.DateTimeField()),
                        ('expires_at', models.DateTimeField(blank=True, help_text='Unpaid orders expire at this time', null=True)),
                        ('paid_at', models.DateTimeField(blank=True, null=True)),
                        ('shipped_at', models.DateTimeField(blank=True, null=True)),
                        ('closed_at', models.DateTimeField(blank=True, null=True)),
                        ('buyer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to=settings.AUTH_USER_MODEL)),
                        ('company', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='core.company')),
                        ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.currency')),
                        ('ship_to_country', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.country')),
                        ('storefront', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='marketplace.storefront')),
                    ],
                    options={
                        'db_table': 'marketplace_order',
                        'ordering': ['-id'],
                    },
                ),
                migrations.CreateModel(
                    name='OrderLine',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveSmallIntegerField()),
                        ('title', models.CharField(max_length=200)),
                        ('hs_code', models.CharField(max_length=10)),
                        ('gross_weight_g', models.PositiveIntegerField()),
                        ('quantity', models.PositiveIntegerField()),
                        ('unit_price_minor', models.BigIntegerField()),
                        ('line_total_minor', models.BigIntegerField()),
                        ('order', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='orders.order')),
                        ('origin_country', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.country')),
                        ('product', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='order_lines', to='marketplace.product')),
                        ('sku', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='warehouses.sku')),
                    ],
                    options={
                        'db_table': 'marketplace_orderline',
                        'ordering': ['order', 'position'],
                    },
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=models.Index(fields=['buyer', '-id'], name='order_buyer_idx'),
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=models.Index(fields=['company', '-id'], name='order_company_idx'),
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=models.Index(fields=['status', 'expires_at'], name='order_due_idx'),
                ),
                migrations.AddConstraint(
                    model_name='order',
                    constraint=models.CheckConstraint(condition=models.Q(('goods_minor__gte', 0), ('shipping_minor__gte', 0), ('taxes_minor__gte', 0)), name='order_amounts_not_negative'),
                ),
                migrations.AddConstraint(
                    model_name='order',
                    constraint=models.CheckConstraint(condition=models.Q(('total_minor', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('goods_minor'), '+', models.F('shipping_minor')), '+', models.F('taxes_minor')))), name='order_total_is_sum'),
                ),
                migrations.AddConstraint(
                    model_name='orderline',
                    constraint=models.UniqueConstraint(fields=('order', 'position'), name='order_line_position_once'),
                ),
                migrations.AddConstraint(
                    model_name='orderline',
                    constraint=models.UniqueConstraint(fields=('order', 'product'), name='order_line_product_once'),
                ),
                migrations.AddConstraint(
                    model_name='orderline',
                    constraint=models.CheckConstraint(condition=models.Q(('quantity__gte', 1), ('quantity__lte', 1000)), name='order_line_quantity_range'),
                ),
                migrations.AddConstraint(
                    model_name='orderline',
                    constraint=models.CheckConstraint(condition=models.Q(('unit_price_minor__gt', 0)), name='order_line_price_positive'),
                ),
                migrations.AddConstraint(
                    model_name='orderline',
                    constraint=models.CheckConstraint(condition=models.Q(('line_total_minor', django.db.models.expressions.CombinedExpression(models.F('unit_price_minor'), '*', models.F('quantity')))), name='order_line_total_is_product'),
                ),
    
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_types, restore_content_types),
    ]
