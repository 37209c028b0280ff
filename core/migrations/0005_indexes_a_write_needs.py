"""Only the indexes a reader uses on the transition events, which every status change writes: the
content type's own index goes (transition_object_idx leads with it), and the actor's covers only
the rows that have one (for deleting a user; most transitions are Celery's)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0004_local_names'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='transitionevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='transitionevent',
            name='content_type',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype'),
        ),
        migrations.AddIndex(
            model_name='transitionevent',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='transition_actor_idx'),
        ),
    ]
