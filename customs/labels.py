"""The names a reader sees for customs codes: regimes and the kinds of tax line, in their language."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.texts import render, render_all

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


def localized_breakdown(items, *, labels: bool = True) -> list[dict]:
    """A stored breakdown (``Item.to_stored()``) in the API's shape, each rule in the reader's language,
    with the kind's name too for pages."""
    shown = []
    for item in items or []:
        # Kept before rule_text was, a breakdown had its rule rendered when kept.
        rule = render(item.get("rule_text") or item.get("rule"))
        line = {key: value for key, value in item.items() if key not in ("rule_text", "rule", "source")}
        line.update(rule=rule, source=item.get("source", ""))
        if labels:
            line["kind_label"] = line_kind_label(item.get("kind", ""))
        shown.append(line)
    return shown


def localized_quote(quote: dict | None, *, labels: bool = True) -> dict | None:
    """A quote stored at checkout (``Quote.to_stored()``) in the API's shape, its texts in today's reader's
    language."""
    if not quote:
        return quote
    shown = {key: value for key, value in quote.items() if key != "warnings_text"}
    shown["breakdown"] = localized_breakdown(quote.get("breakdown"), labels=labels)
    shown["warnings"] = render_all(quote.get("warnings_text") or quote.get("warnings"))
    if isinstance(shown.get("allowance"), dict) and shown["allowance"].get("past_limit"):
        shown["allowance"] = {**shown["allowance"], "past_limit": render(shown["allowance"]["past_limit"])}
    return shown
