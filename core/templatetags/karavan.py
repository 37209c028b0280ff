from django import template
from django.utils.translation import get_language

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
