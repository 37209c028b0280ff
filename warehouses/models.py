from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Warehouse(models.Model):
    class Kind(models.TextChoices):
        BONDED = "bonded", _("Bonded warehouse")
        GENERAL = "general", _("General warehouse")
        DRY_PORT = "dry_port", _("Dry port")

    code = models.CharField(max_length=8, primary_key=True)
    place = models.ForeignKey("core.Place", on_delete=models.PROTECT, related_name="+")
    country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64)
    # Lower first when a reservation may draw from several warehouses.
    priority = models.PositiveSmallIntegerField(default=100)
    operators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="warehouses")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_bonded(self) -> bool:
        return self.kind == self.Kind.BONDED
