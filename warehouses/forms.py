from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from .models import BondStatus, Movement, Warehouse
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
    page_size = forms.TypedChoiceField(label=_("Rows"), required=False, coerce=int, empty_value=50,
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
