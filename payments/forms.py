from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.money import Money


def currency_choices():
    return [(c, c) for c in settings.PAYMENTS_CURRENCIES]


class AmountForm(forms.Form):
    """An amount in the wallet's currency (the page's); ``money()`` gives it as Money."""

    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=18, decimal_places=2,
                                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}))
    # A fresh key per rendered form: a double-click or a resubmitted page books once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, currency: str, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    def money(self) -> Money:
        return Money.of(self.cleaned_data["amount"], self.currency)

    def add_domain_error(self, exc: DomainError) -> None:
        placed = False
        for field, messages in exc.fields.items():
            name = field if field in self.fields else ("amount" if field in {"amount", "owner"} else None)
            if name:
                for message in messages:
                    self.add_error(name, message)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class ConvertForm(AmountForm):
    to_currency = forms.ChoiceField(label=_("Into"), choices=currency_choices)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, currency=currency, **kwargs)
        self.fields["to_currency"].choices = [(c, c) for c in settings.PAYMENTS_CURRENCIES if c != currency]


class TopUpForm(AmountForm):
    pass


class PayoutForm(AmountForm):
    pass
