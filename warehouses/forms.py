from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.money import currencies

from .models import BondStatus, Movement, Sku, Warehouse
from .selectors import SORTS
from .services import MAX_QUANTITY


def apply_errors(form, exc: DomainError, rename: dict | None = None) -> None:
    """Show a service's field errors on the form's fields (the rest at the top)."""
    rename = rename or {}
    if not exc.fields:
        form.add_error(None, exc.message)
    for field, msgs in exc.fields.items():
        name = rename.get(field, field)
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


class StockFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("SKU, name or seller"), "type": "search"}))
    bond_status = forms.ChoiceField(label=_("Customs status"), required=False,
                                    choices=[("", _("Bonded and released"))] + list(BondStatus.choices))
    low = forms.BooleanField(label=_("Low stock only"), required=False)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS] + [(f"-{k}", k) for k in SORTS],
                             widget=forms.HiddenInput)
    page_size = forms.TypedChoiceField(label=_("Rows"), required=False, coerce=int, empty_value=50, initial=50,
                                       choices=[(n, n) for n in (25, 50, 100, 200)])


class MovementFilterForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), required=False, max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds"))] + list(Movement.Kind.choices))
    reference = forms.CharField(label=_("Reference"), required=False, max_length=64)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class AdjustForm(forms.Form):
    quantity = forms.IntegerField(label=_("Units (+ to add, − to remove)"), min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY)
    reason = forms.ChoiceField(label=_("Reason"), choices=Movement.Reason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class TransferForm(forms.Form):
    destination = forms.ChoiceField(label=_("To warehouse"))
    quantity = forms.IntegerField(label=_("Units"), min_value=1, max_value=MAX_QUANTITY)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, source: Warehouse, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].choices = [
            (w.code, f"{w.code} · {w.name}") for w in Warehouse.objects.filter(is_active=True).exclude(pk=source.pk)
        ]


class PackForm(forms.Form):
    weight_g = forms.IntegerField(label=_("Weight, g"), min_value=1, max_value=70_000)
    length_mm = forms.IntegerField(label=_("Length, mm"), min_value=1, max_value=2_000)
    width_mm = forms.IntegerField(label=_("Width, mm"), min_value=1, max_value=2_000)
    height_mm = forms.IntegerField(label=_("Height, mm"), min_value=1, max_value=2_000)


class ConsignmentForm(forms.Form):
    """The head of a seller's consignment: where it goes, by which route, in which invoice currency.
    Changing From, To or the crossing asks the server for the route's legs (htmx)."""

    company = forms.TypedChoiceField(label=_("Company"), coerce=int)
    origin = forms.ChoiceField(label=_("From"))
    warehouse = forms.ChoiceField(label=_("To warehouse"))
    border_crossing = forms.ChoiceField(label=_("Border crossing"), required=False)
    currency = forms.ChoiceField(label=_("Currency of the declared values"), initial="USD")
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, companies, places=None, **kwargs):
        from django.urls import reverse
        from django.utils.translation import get_language

        from .selectors import consignment_places

        super().__init__(*args, **kwargs)
        language = get_language() or "en"
        warehouses, origins, crossings = places or consignment_places()
        self.fields["company"].choices = [(c.pk, c.name) for c in companies]
        if len(companies) == 1:
            self.fields["company"].widget = forms.HiddenInput()
            self.fields["company"].initial = companies[0].pk
        self.fields["warehouse"].choices = [(w.code, f"{w.code} · {w.place.name(language)}") for w in warehouses]
        self.fields["origin"].choices = [(p.code, f"{p.code} · {p.name(language)}") for p in origins]
        self.fields["border_crossing"].choices = [("", _("By the route (none inside one country)"))] + [
            (p.code, p.name(language)) for p in crossings]
        self.fields["currency"].choices = [(c, c) for c in sorted(currencies())]
        preview = {"hx-get": reverse("warehouses:consignment_route"), "hx-trigger": "change",
                   "hx-target": "#route-preview", "hx-swap": "outerHTML", "hx-sync": "closest form:replace",
                   "hx-include": "[name=origin],[name=warehouse],[name=border_crossing]"}
        for name in ("warehouse", "origin", "border_crossing"):
            self.fields[name].widget.attrs.update(preview)


class ConsignmentLineForm(forms.Form):
    """One line: a SKU of the seller's by its code (the search suggests them), the units, the value."""

    sku = forms.CharField(label=_("SKU"), max_length=64, required=False,
                          widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                        "placeholder": _("Code or name")}))
    quantity = forms.IntegerField(label=_("Expected units"), min_value=1, max_value=MAX_QUANTITY, required=False)
    declared_value = forms.DecimalField(label=_("Declared value of the line"), min_value=0, max_digits=15, decimal_places=2,
                                        required=False)

    def __init__(self, *args, search_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if search_url:
            self.fields["sku"].widget.attrs.update({
                "hx-get": search_url, "hx-trigger": "input changed delay:250ms, search", "hx-target": "next .sku-results",
                "hx-include": "[name=company]", "hx-sync": "this:replace"})

    def clean_sku(self):
        return (self.cleaned_data.get("sku") or "").strip()

    def clean(self):
        data = super().clean()
        if data.get("sku") and not data.get("quantity") and not data.get("DELETE"):
            self.add_error("quantity", _("Enter the expected units."))
        return data


ConsignmentLineFormSet = forms.formset_factory(ConsignmentLineForm, extra=3, max_num=200, can_delete=True)


def own_skus(companies):
    return list(Sku.objects.filter(company__in=companies).order_by("code"))
