"""Customs data: tariff and tax rules loaded from reference/ (with their sources and effective
dates), staff-entered tariff lines, per-buyer allowance use, and declarations with their lines and
documents. The rules that read these tables live in ``customs/rules/``."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .states import DECLARATION_MACHINE, DeclarationStatus

HS_CODE_VALIDATOR = RegexValidator(r"^\d{6,10}$", _("An HS code has 6 to 10 digits."))


class Status(models.TextChoices):
    """The verification mark every reference row carries (reference/sources.md)."""

    VERIFIED = "verified", _("Verified")
    PARTIAL = "partially_verified", _("Partially verified")
    UNVERIFIED = "unverified", _("Unverified")


class HsCode(models.Model):
    """A 6-digit HS 2022 subheading from reference/hs_codes.csv, with the rates known for it."""

    code = models.CharField(max_length=6, primary_key=True)
    description_en = models.CharField(max_length=300)
    description_ru = models.CharField(max_length=300, blank=True)
    eaeu_duty_percent = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    eaeu_rate_status = models.CharField(max_length=64, blank=True)
    cn_mfn_percent = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    cn_vat_percent = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    cn_rate_status = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    source = models.TextField(blank=True)

    class Meta:
        verbose_name = _("HS code")
        verbose_name_plural = _("HS codes")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.description_en}"

    @property
    def chapter(self) -> str:
        return self.code[:2]


class TaxRate(models.Model):
    """A row of reference/taxes.csv: a tax of a country with its rate and the dates it applies."""

    country = models.CharField(max_length=8)  # ISO country or "EAEU"
    tax = models.CharField(max_length=64)
    rate_percent = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)  # null: "varies"
    scope = models.TextField(blank=True)
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices)
    notes = models.TextField(blank=True)
    source = models.TextField(blank=True)

    class Meta:
        ordering = ["country", "tax", "effective_from"]
        indexes = [models.Index(fields=["country", "tax"], name="customs_tax_country_idx")]

    def __str__(self):
        return f"{self.country} {self.tax} {self.rate_percent}%"


class ParcelRule(models.Model):
    """A personal-parcel or cross-border retail rule: limits from reference/customs_thresholds.csv,
    the charge terms as we read them (customs/data/parcel_terms.csv)."""

    class Method(models.TextChoices):
        EXCESS_SINGLE_PAYMENT = "excess_single_payment", _("Single payment on the excess")
        EXCESS_DUTY_VAT = "excess_duty_vat", _("Duty and VAT on the excess")
        FULL_VALUE_ECOMMERCE = "full_value_ecommerce", _("E-commerce payment on the full value")
        CBEC = "cbec", _("China cross-border e-commerce retail import")
        POSTAL_ARTICLES = "postal_articles", _("China personal postal articles tax")
        CARRIER_COST = "carrier_cost", _("Carrier cost (not charged to the buyer)")

    jurisdiction = models.CharField(max_length=8)
    countries = models.CharField(max_length=32)  # "KZ;KG"
    channel = models.CharField(max_length=16)  # any, post, courier, cbec, postal
    description = models.TextField()
    method = models.CharField(max_length=32, choices=Method.choices)
    value_limit = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    period_limit = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    period = models.CharField(max_length=8, blank=True)  # month, quarter, year ("" = per parcel only)
    limit_currency = models.CharField(max_length=3)
    weight_limit_kg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    rate_percent = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    per_kg = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    per_kg_basis = models.CharField(max_length=8, blank=True)  # "excess" kg or "total" kg
    fee_per_parcel = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    tax_exempt_up_to = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    # A rule signed but not in force (the EAEU e-commerce regime) stays in the data, switched off.
    in_force = models.BooleanField(default=True)
    status = models.CharField(max_length=32, choices=Status.choices)
    notes = models.TextField(blank=True)
    source = models.TextField(blank=True)

    class Meta:
        ordering = ["jurisdiction", "channel", "effective_from"]

    def __str__(self):
        return f"{self.jurisdiction} {self.channel} {self.value_limit or self.period_limit} {self.limit_currency}"


class TariffLine(models.Model):
    """A rate entered by staff for an HS code (a code outside the reference list, or one whose rate
    the reference data does not give). Takes precedence over reference rates for its country."""

    hs_code = models.CharField(max_length=10, validators=[HS_CODE_VALIDATOR])
    country = models.CharField(max_length=2, help_text=_("Importing country (ISO code)"))
    description = models.CharField(max_length=300)
    duty_percent = models.DecimalField(max_digits=7, decimal_places=3, validators=[MinValueValidator(0)])
    vat_percent = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True,
                                      validators=[MinValueValidator(0)],
                                      help_text=_("Leave empty to use the country's standard VAT"))
    excise_percent = models.DecimalField(max_digits=7, decimal_places=3, default=0, validators=[MinValueValidator(0)])
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    source = models.TextField(help_text=_("Where the rate comes from (law, tariff line, ruling)"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff tariff line")
        verbose_name_plural = _("staff tariff lines")
        ordering = ["country", "hs_code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["hs_code", "country", "effective_from"], name="customs_tariff_line_once"),
            models.CheckConstraint(condition=Q(duty_percent__gte=0) & Q(excise_percent__gte=0), name="customs_tariff_line_non_negative"),
        ]

    def __str__(self):
        return f"{self.country} {self.hs_code} {self.duty_percent}%"


class AllowanceUse(models.Model):
    """A buyer's use of a limit that spans orders (China's yearly CBEC limit, Uzbekistan's monthly
    courier allowance), recorded when an order is paid and released when it is cancelled."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=100)
    jurisdiction = models.CharField(max_length=8)
    period_key = models.CharField(max_length=16)  # 2026, 2026-05, 2025-Q1
    amount_minor = models.BigIntegerField(validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reference", "jurisdiction"], name="customs_allowance_once_per_reference"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="customs_allowance_non_negative"),
        ]
        indexes = [models.Index(fields=["buyer", "jurisdiction", "period_key"], name="customs_allowance_period_idx")]

    def __str__(self):
        return f"{self.buyer_id} {self.jurisdiction} {self.period_key} {self.reference}"


class Declaration(models.Model):
    class Kind(models.TextChoices):
        IMPORT = "import", _("Import into a bonded warehouse")
        RELEASE_FROM_BOND = "release_from_bond", _("Release from bond")
        PARCEL = "parcel", _("Parcel (B2C)")

    Status = DeclarationStatus

    class Channel(models.TextChoices):
        NONE = "", _("Not assigned")
        GREEN = "green", _("Green")
        YELLOW = "yellow", _("Yellow")
        RED = "red", _("Red")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    reference = models.CharField(max_length=100, unique=True)
    importer_country = models.CharField(max_length=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True, default="")
    regime = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    customs_value_minor = models.BigIntegerField(default=0)
    duty_minor = models.BigIntegerField(default=0)
    vat_minor = models.BigIntegerField(default=0)
    excise_minor = models.BigIntegerField(default=0)
    fees_minor = models.BigIntegerField(default=0)
    breakdown = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    declared_weight_kg = models.DecimalField(max_digits=12, decimal_places=3)
    recorded_weight_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    # company or user (charged from its wallet), or escrow: a buyer's parcel whose duties were
    # prepaid with the order and are held in escrow under the declaration's reference (DDP).
    payer_kind = models.CharField(max_length=8, blank=True)
    payer_id = models.BigIntegerField(null=True, blank=True)
    buyer_id = models.BigIntegerField(null=True, blank=True)
    # What the buyer prepaid for duties and taxes (the quote), in the declaration's currency, and the
    # freight the buyer paid (part of the dutiable price where the regime says so: China's CBEC).
    prepaid_minor = models.BigIntegerField(default=0)
    freight_minor = models.BigIntegerField(default=0)
    # The recipient of a parcel as customs match them to the payer: the id number is encrypted at rest
    # (core.crypto) and shown masked.
    recipient_name = models.CharField(max_length=150, blank=True)
    recipient_id_encrypted = models.TextField(blank=True)
    recipient_id_masked = models.CharField(max_length=32, blank=True)
    callback_task = models.CharField(max_length=100, blank=True)
    gateway = models.CharField(max_length=32, default="simulator")
    registration_number = models.CharField(max_length=40, blank=True)
    registered_on = models.DateField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    machine = DECLARATION_MACHINE

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="customs_decl_status_idx"),
            models.Index(fields=["channel", "status"], name="customs_decl_channel_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(declared_weight_kg__gt=0), name="customs_decl_weight_positive"),
            models.CheckConstraint(
                condition=Q(duty_minor__gte=0) & Q(vat_minor__gte=0) & Q(excise_minor__gte=0) & Q(fees_minor__gte=0)
                & Q(customs_value_minor__gte=0),
                name="customs_decl_amounts_non_negative",
            ),
        ]

    def __str__(self):
        return f"{self.reference} ({self.get_status_display()})"

    @property
    def total_minor(self) -> int:
        return self.duty_minor + self.vat_minor + self.excise_minor + self.fees_minor


class DeclarationLine(models.Model):
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    hs_code = models.CharField(max_length=10, validators=[HS_CODE_VALIDATOR])
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    weight_kg = models.DecimalField(max_digits=12, decimal_places=3)
    value_minor = models.BigIntegerField(validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3)
    origin_country = models.CharField(max_length=2)

    class Meta:
        ordering = ["declaration", "position"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "position"], name="customs_line_position_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1) & Q(value_minor__gte=0) & Q(weight_kg__gt=0),
                                   name="customs_line_positive"),
        ]

    def __str__(self):
        return f"{self.hs_code} × {self.quantity}"


def document_path(instance, filename):
    return f"customs/declarations/{instance.declaration_id}/{instance.sha256[:16]}{instance.extension}"


class DeclarationDocument(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Commercial invoice")
        PACKING_LIST = "packing_list", _("Packing list")
        CERTIFICATE_OF_ORIGIN = "certificate_of_origin", _("Certificate of origin")
        OTHER = "other", _("Other document")

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    file = models.FileField(upload_to=document_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    extension = models.CharField(max_length=8)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["declaration", "uploaded_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.original_name}"


class RulesStamp(models.Model):
    """One row whose ``version`` changes (PostgreSQL triggers, migration 0003) in the same database
    transaction as any write to the tables the landed-cost rules read: tax rates, parcel rules,
    tariff lines, HS codes, FX rates, currencies, countries and places. A process keeps what it read
    of those tables in memory for as long as the version it reads once per quote stays the same
    (:func:`customs.rules.data.cached`)."""

    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"rules v{self.version}"
