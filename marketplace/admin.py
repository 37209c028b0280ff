"""Staff tools: verify companies, decide storefront requests, look after the catalogue.

Admin actions call the services, so the same rules and events apply as everywhere else."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.models import Company, CompanyMember
from core.states import history
from core.taxids import validate_tax_id

from . import services
from .models import (
    Category,
    Listing,
    Product,
    ProductImage,
    ProductTranslation,
    Storefront,
    StorefrontMembership,
)
from .states import COMPANY_VERIFICATION_MACHINE


class MemberInline(admin.TabularInline):
    model = CompanyMember
    extra = 0
    autocomplete_fields = ["user"]


class MembershipInline(admin.TabularInline):
    model = StorefrontMembership
    extra = 0
    fields = ["storefront", "status", "requested_at", "decided_at", "note"]
    readonly_fields = ["status", "requested_at", "decided_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class VerificationActionForm(ActionForm):
    """The action bar of the company list, with the reason the verdict is recorded with."""

    reason = forms.CharField(label=_("Reason"), required=False, max_length=500,
                             help_text=_("Required to reject: the company's owner reads it."))


def _set_verification(value):
    def action(modeladmin, request, queryset):
        done = 0
        reason = request.POST.get("reason", "")
        for company in queryset:
            try:
                services.company_verification_set(company=company, verification=value, actor=request.user,
                                                  reason=reason)
                done += 1
            except DomainError as exc:
                modeladmin.message_user(request, f"{company}: {exc.message}", messages.WARNING)
        modeladmin.message_user(request, _("%(n)d companies updated.") % {"n": done})

    action.__name__ = f"mark_{value}"
    action.short_description = {
        "verified": _("Mark as verified"), "rejected": _("Mark as rejected"), "pending": _("Back to pending"),
    }[value]
    return action


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "tax_id", "verification", "needs_manual_check", "created_at"]
    list_filter = ["verification", "country", "needs_manual_check"]
    search_fields = ["name", "tax_id"]
    readonly_fields = ["verification", "needs_manual_check", "created_at", "verification_history"]
    inlines = [MemberInline, MembershipInline]
    actions = [_set_verification("verified"), _set_verification("rejected"), _set_verification("pending")]
    action_form = VerificationActionForm

    form = None  # set below

    @admin.display(description=_("Verification history"))
    def verification_history(self, obj):
        """Who registered, verified or rejected the company, when and why (oldest first)."""
        labels = dict(Company.Verification.choices)
        events = [e for e in history(obj) if e.machine == COMPANY_VERIFICATION_MACHINE.name] if obj.pk else []
        if not events:
            return _("No verification events yet.")
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((date_format(localtime(e.at), "DATETIME_FORMAT"),
              labels.get(e.to_state, e.to_state) if e.from_state else _("Registered: %(state)s") % {
                  "state": labels.get(e.to_state, e.to_state)},
              e.actor_label, e.reason) for e in events),
        )
        return format_html(
            '<table data-testid="verification-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            _("When"), _("Verification"), _("By"), _("Reason"), rows,
        )

    def save_model(self, request, obj, form, change):
        checked = form.cleaned_data["_checked"]
        obj.tax_id, obj.needs_manual_check = checked.value, checked.needs_manual_check
        super().save_model(request, obj, form, change)


class CompanyAdminForm(forms.ModelForm):
    """The tax id is checked against its country's rules before staff can save it."""

    class Meta:
        model = Company
        fields = ["name", "country", "tax_id"]

    def clean(self):
        data = super().clean()
        if data.get("country") and data.get("tax_id"):
            try:
                data["_checked"] = validate_tax_id(data["country"].iso2, data["tax_id"])
            except DomainError as exc:
                self.add_error("tax_id", exc.message)
        return data


CompanyAdmin.form = CompanyAdminForm


@admin.register(CompanyMember)
class CompanyMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "company__name"]
    autocomplete_fields = ["user", "company"]


def _decide(to):
    def action(modeladmin, request, queryset):
        done = 0
        for membership in queryset:
            try:
                services.storefront_membership_decide(membership=membership, to=to, actor=request.user)
                done += 1
            except DomainError as exc:
                modeladmin.message_user(request, f"{membership}: {exc.message}", messages.WARNING)
        modeladmin.message_user(request, _("%(n)d requests updated.") % {"n": done})

    action.__name__ = f"move_to_{to}"
    action.short_description = {"approved": _("Approve"), "rejected": _("Reject"), "suspended": _("Suspend")}[to]
    return action


@admin.register(StorefrontMembership)
class StorefrontMembershipAdmin(admin.ModelAdmin):
    list_display = ["company", "storefront", "status", "requested_at", "decided_at"]
    list_filter = ["status", "storefront"]
    search_fields = ["company__name"]
    readonly_fields = ["company", "storefront", "status", "requested_by", "requested_at", "decided_at"]
    actions = [_decide("approved"), _decide("rejected"), _decide("suspended")]

    def has_add_permission(self, request):
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["path", "name_en", "name_ru", "name_zh", "position"]
    search_fields = ["slug", "name_en", "name_ru", "name_zh"]


class TranslationInline(admin.StackedInline):
    model = ProductTranslation
    extra = 0


class ListingInline(admin.TabularInline):
    model = Listing
    extra = 0
    readonly_fields = ["is_visible"]


class ImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    readonly_fields = ["file", "width", "height", "size_bytes", "thumbnails"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku_code", "company", "status", "category", "hs_code", "origin_country", "updated_at"]
    list_filter = ["status", "origin_country", "category"]
    search_fields = ["sku_code", "company__name", "translations__title"]
    list_select_related = ["company", "category", "origin_country"]
    readonly_fields = ["status", "sku", "cover", "created_at", "updated_at"]
    raw_id_fields = ["company"]
    inlines = [TranslationInline, ListingInline, ImageInline]
    actions = ["archive"]

    @admin.action(description=_("Archive (take off sale)"))
    def archive(self, request, queryset):
        for product in queryset:
            try:
                services.product_status_set(product=product, status=Product.Status.ARCHIVED, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{product}: {exc.message}", messages.WARNING)


@admin.register(Storefront)
class StorefrontAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "name_en", "currency", "default_language", "is_active", "position"]
    filter_horizontal = ["markets", "warehouses"]
