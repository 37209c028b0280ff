from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomsConfig(AppConfig):
    name = "customs"
    verbose_name = _("Customs")

    def ready(self):
        from . import access  # noqa: F401 - registers the visibility scopes
