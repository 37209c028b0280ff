"""Forms of the seller portal. They check the shape of what is typed; the services check the rules
and their DomainErrors are shown on the fields they name (:func:`apply_errors`)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.models import Country
from core.money import Money

from .models import CONTENT_LANGUAGE_NAMES, Category, Product, Storefront

FORM_LANGUAGES = ["en", "ru", "zh", "kk", "uz"]


def apply_errors(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form: on the field it names, else above the form."""
    aliases = {"sku_code": "sku_code", "tax_id": "tax_id", "storefront": "storefront"}
    placed = False
    for name, messages in exc.fields.items():
        field = aliases.get(name, name.replace(".", "_"))
        if field.startswith("translations_"):
            field = field.replace("translations_", "title_").removesuffix("_title")
        if field.startswith("prices_"):
            field = field.replace("prices_", "price_")
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class CompanyForm(forms.Form):
    name = forms.CharField(label=_("Legal name"), max_length=200)
    country = forms.ChoiceField(label=_("Country of registration"))
    tax_id = forms.CharField(label=_("Tax id (BIN, USCC, INN)"), max_length=32,
                             help_text=_("Kazakhstan: 12-digit BIN; China: 18-character USCC; Uzbekistan and Tajikistan: 9 digits; Kyrgyzstan: 14 digits."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [
            (c.iso2, c.name_en) for c in Country.objects.filter(iso2__in=["CN", "KZ", "KG", "UZ", "TJ", "TM"])]


class JoinForm(forms.Form):
    company = forms.ModelChoiceField(label=_("Company"), queryset=None)
    storefront = forms.ModelChoiceField(label=_("Storefront"), queryset=Storefront.objects.filter(is_active=True))
    note = forms.CharField(label=_("Note to staff"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, companies=(), **kwargs):
        super().__init__(*args, **kwargs)
        from core.models import Company

        self.fields["company"].queryset = Company.objects.filter(pk__in=[c.pk for c in companies])


class LocalNameChoiceField(forms.ModelChoiceField):
    """Categories and countries by their name in the seller's language (subcategories indented)."""

    def label_from_instance(self, obj):
        from django.utils.translation import get_language

        name = obj.name(get_language() or "en")
        return "\u2003" * getattr(obj, "depth", 0) + name


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (``<input type=file multiple>``): a list, maybe empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class ProductForm(forms.Form):
    sku_code = forms.CharField(label=_("SKU"), max_length=64)
    status = forms.ChoiceField(label=_("Status"), choices=Product.Status.choices)
    category = LocalNameChoiceField(label=_("Category"), queryset=Category.objects.order_by("path"),
                                    to_field_name="slug")
    hs_code = forms.CharField(label=_("HS code"), max_length=16, help_text=_("6 to 10 digits, e.g. 040900 for honey."),
                              widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "search"}))
    origin_country = LocalNameChoiceField(label=_("Country of origin"), queryset=Country.objects.all())
    net_weight_g = forms.IntegerField(label=_("Net weight, g"), min_value=1)
    gross_weight_g = forms.IntegerField(label=_("Gross weight, g"), min_value=1, required=False,
                                        help_text=_("With packaging; the weight customs and shipping see."))
    length_mm = forms.IntegerField(label=_("Length, mm"), min_value=1, required=False)
    width_mm = forms.IntegerField(label=_("Width, mm"), min_value=1, required=False)
    height_mm = forms.IntegerField(label=_("Height, mm"), min_value=1, required=False)
    attributes = forms.CharField(label=_("Attributes"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("One per line: name: value"))

    def __init__(self, *args, product=None, storefronts=(), **kwargs):
        self.product = product
        self.with_photos = product is None  # photos come with the first save; later through the photo form
        self.storefronts = list(storefronts)
        initial = {}
        if product is not None:
            initial = {f: getattr(product, f) for f in ("sku_code", "status", "hs_code", "net_weight_g",
                                                        "gross_weight_g", "length_mm", "width_mm", "height_mm")}
            initial["category"] = product.category.slug
            initial["origin_country"] = product.origin_country_id
            initial["attributes"] = "\n".join(f"{k}: {v}" for k, v in product.attributes.items())
            for t in product.translations.all():
                initial[f"title_{t.language}"] = t.title
                initial[f"description_{t.language}"] = t.description
            for listing in product.listings.all():
                initial[f"price_{listing.storefront_id}"] = Money(listing.price_minor, listing.currency_id).amount
        super().__init__(*args, initial=initial, **kwargs)
        for language in FORM_LANGUAGES:
            name = CONTENT_LANGUAGE_NAMES[language]
            self.fields[f"title_{language}"] = forms.CharField(label=_("Title (%(language)s)") % {"language": name},
                                                               max_length=200, required=False)
            self.fields[f"description_{language}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": name}, required=False,
                widget=forms.Textarea(attrs={"rows": 4}))
        for storefront in self.storefronts:
            field = forms.DecimalField(
                label=_("Price on %(storefront)s, %(currency)s") % {"storefront": storefront.code,
                                                                    "currency": storefront.currency_id},
                min_value=0, required=False, max_digits=15, decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
            field.currency = storefront.currency_id
            field.storefront = storefront
            self.fields[f"price_{storefront.code}"] = field
        from django.urls import reverse

        # The HS-code helper: matching codes of the reference list as the seller types (htmx).
        self.fields["hs_code"].widget.attrs.update({
            "hx-get": reverse("seller-hs-codes"), "hx-trigger": "input changed delay:300ms, search",
            "hx-target": "#hs-results", "hx-swap": "innerHTML", "aria-controls": "hs-results"})
        if self.with_photos:
            self.fields["photos"] = MultipleFileField(label=_("Photos (JPEG, PNG or WebP)"))
            self.fields["cover"] = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def text_fields(self):
        return [(CONTENT_LANGUAGE_NAMES[lang], self[f"title_{lang}"], self[f"description_{lang}"]) for lang in FORM_LANGUAGES]

    def text_columns(self):
        """Per language: its code, name and two fields (the editor's columns)."""
        return [{"code": lang, "name": CONTENT_LANGUAGE_NAMES[lang], "title": self[f"title_{lang}"],
                 "description": self[f"description_{lang}"]} for lang in FORM_LANGUAGES]

    def price_fields(self):
        return [self[f"price_{s.code}"] for s in self.storefronts]

    def clean_attributes(self):
        result = {}
        for line in self.cleaned_data.get("attributes", "").splitlines():
            if not line.strip():
                continue
            if ":" not in line:
                raise forms.ValidationError(_("Write each attribute as name: value."))
            key, value = line.split(":", 1)
            result[key.strip()] = value.strip()
        return result

    def clean(self):
        data = super().clean()
        if not any(data.get(f"title_{lang}") for lang in FORM_LANGUAGES):
            self.add_error("title_en", _("Give the product a title in at least one language."))
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        translations = {}
        for language in FORM_LANGUAGES:
            title = data.get(f"title_{language}", "").strip()
            if title:
                translations[language] = {"title": title, "description": data.get(f"description_{language}", "")}
            elif self.product is not None:
                translations[language] = None
        prices = {}
        for storefront in self.storefronts:
            amount = data.get(f"price_{storefront.code}")
            prices[storefront.code] = Money.of(amount, storefront.currency_id) if amount else None
        result = {
            "sku_code": data["sku_code"], "category": data["category"], "hs_code": data["hs_code"],
            "origin_country": data["origin_country"].iso2, "net_weight_g": data["net_weight_g"],
            "gross_weight_g": data.get("gross_weight_g") or data["net_weight_g"],
            "length_mm": data.get("length_mm"), "width_mm": data.get("width_mm"), "height_mm": data.get("height_mm"),
            "attributes": data.get("attributes") or {}, "translations": translations, "prices": prices,
            "status": data["status"],
        }
        if self.with_photos and data.get("photos"):
            result["photos"] = data["photos"]
            result["cover"] = data.get("cover")
        return result


class ImageForm(forms.Form):
    """Photos added to a saved product: one or several files (the first field keeps its name
    ``image``, the API's and the older form's)."""

    image = MultipleFileField(label=_("Photos (JPEG, PNG or WebP)"), required=True)
    alt = forms.CharField(label=_("Short description of the photo"), max_length=200, required=False)
