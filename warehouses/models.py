from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .states import (
    CONSIGNMENT_CUSTOMS_MACHINE,
    CONSIGNMENT_MACHINE,
    FULFILMENT_MACHINE,
    RESERVATION_MACHINE,
    TRANSFER_MACHINE,
    ConsignmentCustomsStatus,
    ConsignmentStatus,
    FulfilmentStatus,
    ReservationStatus,
    TransferStatus,
)


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
        # The stock table's default order walks this index and stops after one page.
        indexes = [models.Index(fields=["code", "id"], name="sku_code_idx")]

    def __str__(self):
        return f"{self.code} ({self.company_id})"


# Levels never stocked sort as the youngest: a keyset cursor cannot compare NULLs.
NEVER_AGED = datetime(9999, 1, 1, tzinfo=UTC)


class BondStatus(models.TextChoices):
    BONDED = "bonded", _("Bonded")
    RELEASED = "released", _("Released")


class StockLevel(models.Model):
    """On hand and reserved per (warehouse, SKU, bond status), written in the same transaction as
    each ledger movement. The database refuses a negative level or more reserved than on hand."""

    # Indexed by stock_level_key (warehouse first) and stock_level_sku_idx (SKU first): a reservation
    # updates the level's reserved units, an indexed column, so every index is written again.
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="levels", db_index=False)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="levels", db_index=False)
    bond_status = models.CharField(max_length=8, choices=BondStatus.choices)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    # Bin where pickers find the units; pick lists are sorted by it.
    location = models.CharField(max_length=32, blank=True)
    # When the level last went from empty to stocked: the age of its oldest unit, FIFO assumed.
    aged_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "sku", "bond_status"], name="stock_level_key"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="stock_on_hand_gte_0"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(condition=models.Q(reserved__lte=models.F("on_hand")), name="stock_reserved_lte_on_hand"),
        ]
        indexes = [
            models.Index(fields=["sku", "warehouse"], name="stock_level_sku_idx"),
            models.Index(fields=["warehouse", "bond_status", "aged_since"], name="stock_level_age_idx"),
            # Keyset pages of the stock table sorted by quantity.
            models.Index(fields=["warehouse", "on_hand", "id"], name="stock_level_on_hand_idx"),
            models.Index(fields=["warehouse", "reserved", "id"], name="stock_level_reserved_idx"),
            # The same expressions as selectors.stock_levels' sort keys, or the planner cannot use them.
            models.Index(F("warehouse"), F("on_hand") - F("reserved"), F("id"), name="stock_level_available_idx"),
            models.Index(F("warehouse"), Coalesce("aged_since", Value(NEVER_AGED)), F("id"), name="stock_level_age_key_idx"),
        ]

    def __str__(self):
        return f"{self.warehouse_id}/{self.sku_id}/{self.bond_status}: {self.on_hand - self.reserved} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Movement(models.Model):
    """One line of the append-only stock ledger.

    ``on_hand_delta`` and ``reserved_delta`` are the exact effect on the level row: the level equals
    the sum of its movements (``manage.py check_stock`` verifies it). ``quantity`` is what a person
    reads: units moved, signed for adjustments and discrepancies. Rows are never updated or deleted
    (a database trigger refuses it; see migration 0004). Designed to be partitioned by month on ``at``.
    """

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        RESERVE = "reserve", _("Reserve")
        UNRESERVE = "unreserve", _("Unreserve")
        SHIP = "ship", _("Ship")
        ADJUST = "adjust", _("Adjustment")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        RELEASE_FROM_BOND = "release_from_bond", _("Release from bond")
        DISCREPANCY = "discrepancy", _("Discrepancy")
        # A shipped parcel that came back (refused by customs at the border), booked in as released.
        RETURN = "return", _("Return")

    class Reason(models.TextChoices):
        COUNT = "count", _("Stock count correction")
        DAMAGED = "damaged", _("Damaged")
        LOST = "lost", _("Lost or stolen")
        FOUND = "found", _("Found")
        EXPIRED = "expired", _("Expired goods")
        SAMPLE = "sample", _("Sample or inspection")
        OTHER = "other", _("Other")

    # Indexed by movement_warehouse_at_idx and movement_level_idx, which lead with them.
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements", db_index=False)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="movements", db_index=False)
    bond_status = models.CharField(max_length=8, choices=BondStatus.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity = models.IntegerField()
    on_hand_delta = models.IntegerField()
    reserved_delta = models.IntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # The consignment, order, reservation or transfer that caused the movement.
    reference = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["warehouse", "-at"], name="movement_warehouse_at_idx"),
            models.Index(fields=["sku", "warehouse", "bond_status"], name="movement_level_idx"),
            models.Index(fields=["reference"], name="movement_reference_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.quantity} {self.sku_id}@{self.warehouse_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Stock movements are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Stock movements are append-only.")


class Reservation(models.Model):
    """Units held for a caller's reference (an order) until shipped, released or expired."""

    Status = ReservationStatus
    machine = RESERVATION_MACHINE

    reference = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    buyer_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+", db_index=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # A constraint, not unique=True, which would add a LIKE twin (varchar_pattern_ops) that no
        # query uses and every reservation writes.
        constraints = [models.UniqueConstraint(fields=["reference"], name="reservation_reference_once")]
        indexes = [
            models.Index(fields=["expires_at"], name="reservation_due_idx", condition=models.Q(status="active")),
        ]

    def __str__(self):
        return f"{self.reference} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+", db_index=False)
    bond_status = models.CharField(max_length=8, choices=BondStatus.choices)
    quantity = models.PositiveIntegerField()
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="reservation_line_qty_gt_0")]
        # The pick list's lines per warehouse (without the LIKE twin a db_index would add).
        indexes = [models.Index(fields=["warehouse"], name="reservation_line_warehouse_idx")]

    def __str__(self):
        return f"{self.quantity} × {self.sku_id}@{self.warehouse_id}/{self.bond_status}"


class Consignment(models.Model):
    """Stock a seller sends in bulk to a warehouse, along a route through a border crossing."""

    Status = ConsignmentStatus
    machine = CONSIGNMENT_MACHINE

    number = models.CharField(max_length=24, unique=True)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="consignments")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="consignments")
    origin = models.ForeignKey("core.Place", on_delete=models.PROTECT, related_name="+")
    border_crossing = models.ForeignKey("core.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Place codes from origin to warehouse, each leg with its mode: [{"from", "to", "mode"}].
    legs = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    customs_declaration_id = models.BigIntegerField(null=True, blank=True)
    customs_status = models.CharField(max_length=32, blank=True)
    # Why customs refused the entry (or could not take the declaration); shown to seller and operator.
    customs_note = models.CharField(max_length=500, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["warehouse", "status"], name="consignment_wh_status_idx"),
            models.Index(fields=["company", "-created_at"], name="consignment_company_idx"),
        ]

    def __str__(self):
        return self.number

    @property
    def total_expected(self) -> int:
        return sum(line.expected_qty for line in self.lines.all())

    @property
    def customs_clearance(self) -> str:
        """Where customs stands, in the reader's language (``customs_status`` is the code)."""
        return str(dict(ConsignmentCustomsStatus.choices).get(self.customs_status, self.customs_status))


class ConsignmentCustoms(Consignment):
    """The customs side of a consignment: the same row under the machine of its ``customs_status``,
    so that :func:`core.states.transition` moves it and records the event on the consignment."""

    machine = CONSIGNMENT_CUSTOMS_MACHINE

    class Meta:
        proxy = True
        verbose_name = _("Consignment")


class ConsignmentLine(models.Model):
    consignment = models.ForeignKey(Consignment, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    expected_qty = models.PositiveIntegerField()
    counted_qty = models.PositiveIntegerField(null=True, blank=True)
    # Customs value of the whole line; a draft may lack it, submission requires it.
    declared_value_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["consignment", "sku"], name="consignment_line_sku_once"),
            models.CheckConstraint(condition=models.Q(expected_qty__gt=0), name="consignment_line_expected_gt_0"),
            models.CheckConstraint(
                condition=models.Q(declared_value_minor__isnull=True, currency="")
                | models.Q(declared_value_minor__gt=0, currency__regex=r"^[A-Z]{3}$"),
                name="consignment_line_value_with_currency",
            ),
        ]

    def __str__(self):
        return f"{self.sku_id} × {self.expected_qty}"

    @property
    def difference(self) -> int | None:
        return None if self.counted_qty is None else self.counted_qty - self.expected_qty

    @property
    def declared_value(self):
        from core.money import Money

        return None if self.declared_value_minor is None else Money(self.declared_value_minor, self.currency)


class Discrepancy(models.Model):
    """A counted quantity that differs from the expected one; the seller sees it."""

    class Kind(models.TextChoices):
        SHORTAGE = "shortage", _("Shortage")
        OVERAGE = "overage", _("Overage")

    consignment = models.ForeignKey(Consignment, on_delete=models.PROTECT, related_name="discrepancies")
    line = models.OneToOneField(ConsignmentLine, on_delete=models.PROTECT, related_name="discrepancy")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    expected_qty = models.PositiveIntegerField()
    counted_qty = models.PositiveIntegerField()
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("discrepancies")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.consignment_id}/{self.sku_id}: {self.counted_qty - self.expected_qty:+d}"

    @property
    def difference(self) -> int:
        return self.counted_qty - self.expected_qty


class Transfer(models.Model):
    """Units moved between warehouses: out of the source at once, into the destination on arrival."""

    Status = TransferStatus
    machine = TRANSFER_MACHINE

    number = models.CharField(max_length=24, unique=True)
    source = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="transfers_out")
    destination = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_TRANSIT)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    bond_status = models.CharField(max_length=8, choices=BondStatus.choices)
    # Status of the units at the destination: bonded when they cross into another country.
    arrival_bond_status = models.CharField(max_length=8, choices=BondStatus.choices)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="transfer_line_qty_gt_0")]

    def __str__(self):
        return f"{self.sku_id} × {self.quantity}"


class Fulfilment(models.Model):
    """Picking, packing and shipping the reserved units of one reference in one warehouse."""

    Status = FulfilmentStatus
    machine = FULFILMENT_MACHINE

    reference = models.CharField(max_length=64)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="fulfilments")
    reservation = models.ForeignKey(Reservation, on_delete=models.PROTECT, related_name="fulfilments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    # A Celery task name the caller registered; sent on picking, packed and shipped
    # (interface.FulfilmentEvent: [reference, warehouse, tracking numbers], {"status"}).
    callback_task = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the status last changed (null: still as requested at created_at); the simulator's sweep
    # finds fulfilments that stopped moving by it.
    moved_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["reference", "warehouse"], name="fulfilment_once_per_warehouse")]
        indexes = [models.Index(fields=["warehouse", "status"], name="fulfilment_wh_status_idx")]

    def __str__(self):
        return f"{self.reference}@{self.warehouse_id}"


class Parcel(models.Model):
    fulfilment = models.ForeignKey(Fulfilment, on_delete=models.CASCADE, related_name="parcels")
    weight_g = models.PositiveIntegerField()
    length_mm = models.PositiveIntegerField()
    width_mm = models.PositiveIntegerField()
    height_mm = models.PositiveIntegerField()
    carrier = models.CharField(max_length=32, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight_g__gt=0, length_mm__gt=0, width_mm__gt=0, height_mm__gt=0),
                name="parcel_measured",
            ),
        ]

    def __str__(self):
        return self.tracking_number or f"parcel {self.pk}"
