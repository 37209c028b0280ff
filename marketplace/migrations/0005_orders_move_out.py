"""Orders now live in the ``orders`` app (its migration 0001 takes over the same tables)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0004_orders'),
        ('orders', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='OrderLine'),
                migrations.DeleteModel(name='Order'),
            ],
            database_operations=[],
        ),
    ]
