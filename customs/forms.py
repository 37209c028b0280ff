from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Declaration, DeclarationDocument


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All states"))] + list(Declaration.Status.choices))
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("All channels")), ("green", _("Green")), ("yellow", _("Yellow")), ("red", _("Red"))])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds"))] + list(Declaration.Kind.choices))
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ActionForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=DeclarationDocument.Kind.choices)
    file = forms.FileField(label=_("File (PDF, PNG or JPEG)"))
