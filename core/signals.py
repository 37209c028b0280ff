from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Profile


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="core.profile_for_user")
def create_profile(sender, instance, created, **kwargs):
    # Same app, same concern (a user always has a profile): not a cross-app signal.
    if created:
        Profile.objects.get_or_create(user=instance)
