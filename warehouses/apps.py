from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarehousesConfig(AppConfig):
    name = "warehouses"
    verbose_name = _("Warehouses")

    def ready(self):
        from . import access  # noqa: F401
