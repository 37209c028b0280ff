from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import texts
from .models import Country, Profile


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="core.profile_for_user")
def create_profile(sender, instance, created, **kwargs):
    # Same app, same concern (a user always has a profile): not a cross-app signal.
    if created:
        Profile.objects.get_or_create(user=instance)


@receiver(post_save, sender=Country, dispatch_uid="core.texts_forget_countries")
def forget_country_names(sender, **kwargs):
    # Stored messages name countries by code; their names are cached per process (core.texts).
    texts.forget_countries()
