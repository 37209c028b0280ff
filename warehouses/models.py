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


class Sku(models.Model):
    """A stock-keeping unit of a seller company: what the warehouses count.

    The marketplace's product points here; the warehouses know nothing of products or orders.
    """

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="skus")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    hs_code = models.CharField(max_length=10, blank=True)
    origin_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    weight_g = models.PositiveIntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(default=5)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="sku_code_per_company")]

    def __str__(self):
        return f"{self.code} ({self.company_id})"


class BondStatus(models.TextChoices):
    BONDED = "bonded", _("Bonded")
    RELEASED = "released", _("Released")


class StockLevel(models.Model):
    """On hand and reserved per (warehouse, SKU, bond status), written in the same transaction as
    each ledger movement. The database refuses a negative level or more reserved than on hand."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="levels")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="levels")
    bond_status = models.CharField(max_length=8, choices=BondStatus.choices)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "sku", "bond_status"], name="stock_level_key"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="stock_on_hand_gte_0"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(condition=models.Q(reserved__lte=models.F("on_hand")), name="stock_reserved_lte_on_hand"),
        ]
        indexes = [models.Index(fields=["sku", "warehouse"], name="stock_level_sku_idx")]

    def __str__(self):
        return f"{self.warehouse_id}/{self.sku_id}/{self.bond_status}: {self.on_hand - self.reserved} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved
