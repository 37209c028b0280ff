"""The names a reader sees for customs codes: regimes and the kinds of tax line, in their language."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

REGIMES = {
    "cn_cbec_9610": _("China cross-border e-commerce, direct purchase (9610)"),
    "cn_cbec_1210": _("China cross-border e-commerce, bonded warehouse (1210)"),
    "cn_postal_articles": _("China personal postal articles"),
    "eaeu_personal_parcel": _("EAEU personal parcel"),
    "eaeu_ecommerce": _("EAEU e-commerce goods"),
    "uz_personal_parcel": _("Uzbekistan personal parcel"),
    "tj_personal_parcel": _("Tajikistan personal parcel"),
    "tm_personal_parcel": _("Turkmenistan personal parcel"),
    "domestic": _("Sold inside the country: no customs"),
    "release_from_bond": _("Release from bond for free circulation"),
    "customs_warehouse": _("Entry into a customs warehouse"),
}

LINE_KINDS = {
    "allowance": pgettext_lazy("tax line", "Duty-free allowance"),
    "customs_value": pgettext_lazy("tax line", "Customs value"),
    "duty": pgettext_lazy("tax line", "Duty"),
    "excise": pgettext_lazy("tax line", "Excise"),
    "fee": pgettext_lazy("tax line", "Customs fee"),
    "parcel_payment": pgettext_lazy("tax line", "Single customs payment"),
    "vat": pgettext_lazy("tax line", "Import VAT"),
    "vat_included": pgettext_lazy("tax line", "VAT included in the price"),
}


def regime_label(code: str) -> str:
    return str(REGIMES.get(code, code or ""))


def line_kind_label(code: str) -> str:
    return str(LINE_KINDS.get(code, code or ""))
