from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Currency(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    numeric = models.CharField(max_length=3)
    minor_units = models.PositiveSmallIntegerField()
    symbol = models.CharField(max_length=32, blank=True)
    name_en = models.CharField(max_length=64)
    usd_per_unit = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    rate_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=32, blank=True)
    source = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = _("currencies")
        ordering = ["code"]

    def __str__(self):
        return self.code


class Named:
    """A name per language (``name_en``, ``name_ru``, ``name_zh``, ``name_kk``, ``name_uz``), read along a
    chain the reader can read: kk → ru → en, uz → ru → en, zh → en, ru → en."""

    CHAINS = {"kk": ("kk", "ru", "en"), "uz": ("uz", "ru", "en"), "ru": ("ru", "en"), "zh": ("zh", "en")}

    def name(self, language: str) -> str:
        code = (language or "en").lower()
        code = "zh" if code.startswith("zh") else code[:2]
        for lang in self.CHAINS.get(code, ("en",)):
            value = getattr(self, f"name_{lang}", "")
            if value:
                return value
        return self.name_en


class Country(Named, models.Model):
    iso2 = models.CharField(max_length=2, primary_key=True)
    iso3 = models.CharField(max_length=3, unique=True)
    name_en = models.CharField(max_length=64)
    name_ru = models.CharField(max_length=64)
    name_zh = models.CharField(max_length=64)
    name_kk = models.CharField(max_length=64, blank=True)
    name_uz = models.CharField(max_length=64, blank=True)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    customs_union = models.CharField(max_length=16, blank=True)
    default_languages = models.CharField(max_length=32, blank=True)
    capital = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    source = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = _("countries")
        ordering = ["iso2"]

    def __str__(self):
        return self.name_en



class Place(Named, models.Model):
    """Warehouses, dry ports, border crossings and cities named by routes and tracking events."""

    code = models.CharField(max_length=32, primary_key=True)
    name_en = models.CharField(max_length=200)
    name_ru = models.CharField(max_length=200, blank=True)
    name_zh = models.CharField(max_length=200, blank=True)
    name_kk = models.CharField(max_length=200, blank=True)
    name_uz = models.CharField(max_length=200, blank=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    countries = models.CharField(max_length=16, blank=True, help_text=_("Both sides of a border crossing, e.g. CN;KZ"))
    kind = models.CharField(max_length=32)
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lon = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(max_length=32, blank=True)
    notes = models.TextField(blank=True)
    source = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name_en}"



class Profile(models.Model):
    """What the platform knows of a person beyond the login: where they live and what they prefer."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    city = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    language = models.CharField(max_length=8, blank=True)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    def __str__(self):
        return f"profile of {self.user}"


class TransitionEvent(models.Model):
    """Every status change of every state machine, written in the transaction that made it.

    Append-only; designed to be partitioned by month on ``at``.
    """

    machine = models.CharField(max_length=64)
    # Indexed by transition_object_idx, which leads with it.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", db_index=False)
    object_id = models.BigIntegerField()
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_index=False)
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField()
    reason = models.TextField(blank=True)
    place = models.CharField(max_length=32, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        # Every transition writes each index: the actor's only where there is one (most transitions
        # are Celery's), for deleting a user.
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="transition_object_idx"),
                   models.Index(fields=["actor"], condition=models.Q(actor__isnull=False), name="transition_actor_idx")]
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.machine}#{self.object_id} {self.from_state}→{self.to_state}"


class IdempotencyKey(models.Model):
    """The first response to an unsafe API request, keyed per user, for replays."""

    class Status(models.TextChoices):
        IN_FLIGHT = "in_flight"
        DONE = "done"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    body_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The first response exactly as sent (a jsonb column would reorder its keys), and its headers
    # (Content-Type, Location, ...) as [name, value] pairs, so a replay is byte for byte the same.
    response_content = models.BinaryField(null=True, blank=True)
    response_headers = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class Company(models.Model):
    """A legal entity that sells, imports or holds stock. Lives in core because every layer names
    it: wallets (payments), importers (customs), stock owners (warehouses), sellers (marketplace)."""

    class Verification(models.TextChoices):
        # Contexts keep these from shadowing other apps' "Rejected"/"Verified" (declarations, ...).
        PENDING = "pending", pgettext_lazy("company verification", "Pending verification")
        VERIFIED = "verified", pgettext_lazy("company verification", "Verified")
        REJECTED = "rejected", pgettext_lazy("company verification", "Rejected")

    name = models.CharField(max_length=200)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    tax_id = models.CharField(max_length=32)
    # Changed only through the machine the marketplace declares (marketplace/states.py, carried by the
    # proxy marketplace.models.SellerCompany): each verdict is a TransitionEvent with who and why.
    verification = models.CharField(max_length=16, choices=Verification.choices, default=Verification.PENDING)
    # Set where the country's format cannot be checked automatically (Turkmenistan).
    needs_manual_check = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("companies")
        constraints = [models.UniqueConstraint(fields=["country", "tax_id"], name="company_tax_id_per_country")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class CompanyMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MANAGER = "manager", _("Manager")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="company_memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MANAGER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "user"], name="company_member_once")]

    def __str__(self):
        return f"{self.user} @ {self.company} ({self.role})"
