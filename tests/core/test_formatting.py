"""Numbers, rates and percentages as the reader writes them; every customs regime has a name."""

import pytest
from django.utils import translation

from core.templatetags.karavan import actor, fxrate, number, percent


@pytest.mark.parametrize(("language", "expected"), [("en", "4,269"), ("ru", "4\u00a0269"), ("zh-hans", "4,269")])
def test_numbers_are_grouped_per_locale(language, expected):
    with translation.override(language):
        assert number(4269) == expected


@pytest.mark.parametrize(("language", "value", "expected"), [
    ("en", "6.3", "6.3%"), ("ru", "6.3", "6,3\u00a0%"), ("en", "16", "16%"), ("en", "", "")])
def test_rates_carry_a_percent_sign(language, value, expected):
    with translation.override(language):
        assert percent(value) == expected


def test_fx_rates_show_at_most_four_decimals():
    with translation.override("en"):
        assert fxrate("590.2475997980") == "590.2476"
        assert fxrate("12927.1619062") == "12,927.1619"
    with translation.override("ru"):
        assert fxrate("0.0775000000") == "0,0775"


def test_every_regime_the_rules_can_choose_has_a_name():
    import inspect

    from customs import rules
    from customs.labels import REGIMES

    source = inspect.getsource(rules.compute) + inspect.getsource(rules.select_regime)
    import re

    codes = set(re.findall(r'"([a-z]{2,4}_[a-z0-9_]+|domestic)"', source))
    assert codes and codes <= set(REGIMES), codes - set(REGIMES)


@pytest.mark.parametrize(("language", "expected"), [("en", "30 minutes"), ("ru", "30 минут"), ("kk", "30 минут"),
                                                    ("uz", "30 daqiqa"), ("zh-hans", "30分钟")])
def test_time_left_is_in_the_readers_words(language, expected):
    from datetime import timedelta

    from django.utils import timezone, translation

    from core.templatetags.karavan import timeleft

    with translation.override(language):
        assert timeleft(timezone.now() + timedelta(minutes=30, seconds=5)) == expected
        assert timeleft(timezone.now() - timedelta(minutes=5)) != ""  # past: nothing left, still words


@pytest.mark.parametrize(("language", "expected"), [("en", "Mar 17, 2025"), ("ru", "17 мар. 2025\u202fг."),
                                                    ("zh-hans", "2025年3月17日")])
def test_dates_of_stored_quotes_read_the_readers_way(language, expected):
    from django.utils import translation

    from core.templatetags.karavan import day

    with translation.override(language):
        assert day("2025-03-17") == expected
        assert day("not a date") == "not a date"


@pytest.mark.django_db
def test_a_country_code_reads_as_the_readers_name_for_it(reference):
    from core import texts
    from core.templatetags.karavan import country

    texts.forget_countries()
    with translation.override("kk"):
        assert country("UZ") == "Өзбекстан"
    with translation.override("ru"):
        assert country("CN") == "Китай"
    assert country("") == "" and country(None) == ""


@pytest.mark.parametrize("language, expected", [("ru", "Karavan (автоматически)"), ("zh-hans", "Karavan（自动）"),
                                                ("kk", "Karavan (автоматты түрде)"), ("uz", "Karavan (avtomatik)")])
def test_the_platforms_own_steps_are_named_in_the_readers_language(language, expected):
    with translation.override(language):
        assert actor("system") == expected
        assert actor("operator_tas") == "operator_tas"
