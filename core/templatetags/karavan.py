from django import template
from django.utils.translation import get_language, gettext

from core.access import SYSTEM
from core.money import Money, format_money

register = template.Library()


@register.filter
def money(value, currency: str | None = None):
    """{{ price|money }} for a Money, or {{ minor|money:"KZT" }} for minor units."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Money):
        value = Money(int(value), currency)
    return format_money(value, get_language() or "en")


@register.filter
def localname(obj):
    """The object's name in the active language (objects with a ``name(language)`` method)."""
    return obj.name(get_language() or "en")


@register.filter
def actor(label):
    """Who did it, as an event or a movement recorded it: the platform's own steps read as such."""
    return gettext("Karavan (automatic)") if label == SYSTEM else label


@register.filter
def country(code):
    """A country code ('UZ') as the reader names the country ('Өзбекстан')."""
    from core.texts import country_name

    return country_name(str(code), get_language() or "en") if code else ""


def _decimal(value):
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def number(value, digits: int | None = None):
    """A number in the reader's locale: {{ 4269|number }} → '4 269' in Russian, '4,269' in English."""
    from babel.numbers import format_decimal

    from core.money import babel_locale

    amount = _decimal(value)
    if amount is None:
        return value
    pattern = None if digits is None else "#,##0" + ("." + "0" * int(digits) if int(digits) else "")
    return format_decimal(amount, format=pattern, locale=babel_locale(get_language() or "en"))


@register.filter
def percent(value):
    """A rate given in percent points ('16', '6.3') as the reader writes it: '16 %', '6,3 %'."""
    from babel.numbers import format_percent

    from core.money import babel_locale

    amount = _decimal(value)
    if amount is None or value in ("", None):
        return ""
    return format_percent(amount / 100, locale=babel_locale(get_language() or "en"), decimal_quantization=False)


@register.filter
def fxrate(value):
    """An exchange rate with at most four decimals, in the reader's locale."""
    from babel.numbers import format_decimal

    from core.money import babel_locale

    amount = _decimal(value)
    if amount is None:
        return value
    return format_decimal(amount, format="#,##0.####", locale=babel_locale(get_language() or "en"))


@register.filter
def timeleft(value):
    """The time from now until ``value`` in the reader's words: '30 минут', '26 сағат', '30分钟' (Babel has
    them for every language of the site, where Django's catalogues miss some)."""
    from babel.dates import format_timedelta
    from django.utils import timezone

    from core.money import babel_locale

    if not value:
        return ""
    left = max(value - timezone.now(), timezone.timedelta(0))
    return format_timedelta(left, threshold=1.1, locale=babel_locale(get_language() or "en"))


@register.filter
def day(value):
    """A date (or an ISO date string, as stored quotes keep them) the reader's way: '30 нояб. 2026 г.'."""
    from datetime import date

    from babel.dates import format_date

    from core.money import babel_locale

    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return format_date(value, format="medium", locale=babel_locale(get_language() or "en"))
