"""Admin: tariff data visible (reference rows read-only, staff tariff lines editable), declarations
with their transitions as admin actions (through the same services as the broker's queue)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.access import visible
from core.admin import ReadOnlyAdmin
from core.errors import DomainError

from . import services
from .models import (
    AllowanceUse,
    Declaration,
    DeclarationDocument,
    DeclarationLine,
    HsCode,
    ParcelRule,
    TariffLine,
    TaxRate,
)
from .states import ACTION_LABELS, BROKER_ACTIONS


@admin.register(HsCode)
class HsCodeAdmin(ReadOnlyAdmin):
    list_display = ["code", "description_en", "eaeu_duty_percent", "cn_mfn_percent", "cn_vat_percent", "cn_rate_status"]
    search_fields = ["code", "description_en", "description_ru"]


@admin.register(TaxRate)
class TaxRateAdmin(ReadOnlyAdmin):
    list_display = ["country", "tax", "rate_percent", "effective_from", "effective_to", "status"]
    list_filter = ["country", "tax", "status"]


@admin.register(ParcelRule)
class ParcelRuleAdmin(ReadOnlyAdmin):
    list_display = ["jurisdiction", "channel", "method", "value_limit", "period_limit", "period", "limit_currency",
                    "weight_limit_kg", "rate_percent", "per_kg", "effective_from", "effective_to", "in_force", "status"]
    list_filter = ["jurisdiction", "in_force", "status"]


@admin.register(TariffLine)
class TariffLineAdmin(admin.ModelAdmin):
    list_display = ["hs_code", "country", "description", "duty_percent", "vat_percent", "excise_percent", "effective_from",
                    "effective_to", "entered_by"]
    list_filter = ["country"]
    search_fields = ["hs_code", "description"]
    readonly_fields = ["entered_by", "entered_at"]

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(AllowanceUse)
class AllowanceUseAdmin(ReadOnlyAdmin):
    list_display = ["buyer", "jurisdiction", "period_key", "amount_minor", "currency", "reference", "created_at", "released_at"]
    list_filter = ["jurisdiction", "period_key"]
    search_fields = ["reference", "buyer__username"]


class LineInline(admin.TabularInline):
    model = DeclarationLine
    extra = 0
    can_delete = False
    readonly_fields = ["position", "hs_code", "description", "quantity", "weight_kg", "value_minor", "currency", "origin_country"]

    def has_add_permission(self, request, obj=None):
        return False


class DocumentInline(admin.TabularInline):
    model = DeclarationDocument
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "file", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    exclude = ["sha256", "extension"]

    def has_add_permission(self, request, obj=None):
        return False


def _action(name):
    def run(modeladmin, request, queryset):
        done = 0
        for declaration in queryset.order_by("pk"):
            try:
                services.declaration_act(declaration_id=declaration.pk, action=name, actor=request.user,
                                         reason=str(_("Rejected in the admin")) if name == "reject" else "")
                done += 1
            except DomainError as exc:
                modeladmin.message_user(request, f"{declaration.reference}: {exc.message}", messages.WARNING)
        if done:
            modeladmin.message_user(request, _("%(n)d declaration(s) updated.") % {"n": done}, messages.SUCCESS)

    run.__name__ = f"action_{name}"
    run.short_description = ACTION_LABELS[name]
    return run


def _submit(modeladmin, request, queryset):
    for declaration in queryset.filter(status="draft").order_by("pk"):
        services.declaration_submit(declaration_id=declaration.pk, actor=request.user)


_submit.short_description = _("Submit to customs")


@admin.register(Declaration)
class DeclarationAdmin(admin.ModelAdmin):
    list_display = ["reference", "kind", "importer_country", "status", "channel", "regime", "registration_number", "created_at"]
    list_filter = ["status", "channel", "kind", "importer_country"]
    search_fields = ["reference", "registration_number"]
    date_hierarchy = "created_at"
    inlines = [LineInline, DocumentInline]
    actions = [_submit, *[_action(name) for name in BROKER_ACTIONS]]
    # Status and amounts change only through the state machine and the rules engine.
    readonly_fields = [f.name for f in Declaration._meta.fields]

    def get_queryset(self, request):
        return visible(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
