"""Rule texts, warnings and customs notes are stored as messages and read in the reader's language."""

from datetime import date

import pytest
from django.utils import translation

from core.access import SYSTEM_ACTOR
from core.money import Money
from core.states import history
from core.texts import fx_rate, note, percent, render, text
from customs import selectors, services
from customs.labels import localized_quote
from customs.models import Declaration, TariffLine

from .conftest import d, line
from .factories import declaration

pytestmark = pytest.mark.django_db


def kz_quote():
    # 100,000 KZT of goods to Almaty: under the 200 EUR allowance; the quote names the EUR rate.
    return services.quote(origin_country="CN", destination_country="KZ", currency="KZT",
                          lines=[line("851713", "100000", "KZT", kg="0.350")], shipping=Money.of("5000", "KZT"),
                          insurance=Money.zero("KZT"), date=d("2026-03-01"))


def test_parameters_are_formatted_the_readers_way(tariff):
    message = text("%(amount)s at %(rate)s (%(fx)s), %(day)s, %(country)s", amount=Money.of("118049.52", "KZT"),
                   rate=percent("6.3"), fx=fx_rate("590.2475997980"), day=date(2026, 3, 1), country={"country": "KZ"})
    english = render(message, "en")
    assert english == "₸118,049.52 at 6.3% (590.2476), Mar 1, 2026, Kazakhstan"
    russian = render(message, "ru")
    assert russian.startswith("118\xa0049,52\xa0₸ at 6,3\xa0% (590,2476)")
    assert russian.endswith("Казахстан")
    # The same stored JSON renders the same way: what an order or a declaration keeps.
    assert render(message.to_json(), "ru") == russian


def test_a_translation_that_lost_a_placeholder_falls_back_to_english(monkeypatch):
    monkeypatch.setattr(translation, "gettext", lambda msgid: "%(missing)s")
    assert render(text("Duty %(rate)s", rate=percent(5)), "ru") == "Duty 5\xa0%"  # the English text, figures the reader's way


def test_plain_strings_and_empty_values_render(tariff):
    assert render("", "ru") == ""  # never the catalogue's header
    assert render(None, "ru") == ""
    assert render("Anything a person typed", "ru") == "Anything a person typed"


@pytest.mark.parametrize("language", ["ru", "kk", "uz", "zh-hans"])
def test_a_stored_quote_reads_in_each_language(tariff, language):
    stored = kz_quote().to_stored()
    with translation.override("en"):
        english = localized_quote(stored, labels=False)
    with translation.override(language):
        shown = localized_quote(stored, labels=False)
    assert set(shown) == set(english)  # the API's shape: no stored message ids leak out
    allowance = next(item for item in shown["breakdown"] if item["kind"] == "allowance")
    assert "rule_text" not in allowance and "Duty-free" not in allowance["rule"]
    assert allowance["rule"] != next(i for i in english["breakdown"] if i["kind"] == "allowance")["rule"]
    assert set(shown) == set(kz_quote().to_api())  # read back, the shape the quote API answers
    assert [set(item) for item in shown["breakdown"]] == [set(item) for item in kz_quote().to_api()["breakdown"]]


def test_a_quote_kept_with_its_rules_rendered_reads_as_it_was_kept(tariff):
    """Kept before its messages were (an order of last year): its rendered texts are what there is."""
    kept = kz_quote().to_stored()
    for item in kept["breakdown"]:
        item["rule"] = render(item.pop("rule_text"), "en")
    kept["warnings"] = [render(w, "en") for w in kept.pop("warnings_text")]

    with translation.override("ru"):
        shown = localized_quote(kept, labels=False)
    assert [item["rule"] for item in shown["breakdown"]] == [item["rule"] for item in kept["breakdown"]]
    assert shown["warnings"] == kept["warnings"]


def test_gateway_notes_are_kept_as_messages_and_shown_translated(tariff):
    TariffLine.objects.create(hs_code="851713", country="KZ", description="Smartphones (test rate)", duty_percent=5,
                              effective_from=d("2020-01-01"), source="test")
    info = declaration()
    services.declaration_submit(declaration_id=info.id, actor=SYSTEM_ACTOR)
    services.gateway_register(declaration_id=info.id)
    services.gateway_poll(declaration_id=info.id)  # no invoice: the yellow channel, documents requested
    decl = Declaration.objects.get(pk=info.id)
    entries = selectors.timeline(decl)
    yellow = next(e for e in entries if e.status == "yellow")
    assert yellow.note == "No commercial invoice attached"  # English in the active language of the test
    with translation.override("ru"):
        shown = next(e for e in selectors.timeline(decl) if e.status == "yellow").note
    assert shown and shown != yellow.note
    # What the column keeps stays readable English for exports and the admin.
    stored = next(e for e in history(decl) if e.to_state == "yellow")
    assert stored.reason == "No commercial invoice attached"
    assert note(stored.reason, stored.payload) == "No commercial invoice attached"
