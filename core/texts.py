"""Messages that are stored and shown later, in the reader's language.

A rule text of a customs quote, a warning or a gateway's note is written once (at checkout, by a
Celery task) and read many times, by a buyer in Kazakh, a broker in Russian, the API in Chinese. So
it is kept as a message id with its parameters, ``{"msgid": ..., "params": {...}}``, and translated
and formatted only when shown. Parameters keep their kind, so that each is formatted the reader's
way: money, numbers, percentages, FX rates, dates, country names, or another message.

Write ``text(gettext_noop("Duty-free up to %(limit)s"), limit=money)``; show ``render(value)``. A
plain string renders through the catalogue too, so a constant stored as English still reads in the
reader's language, and old rows keep working.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date as Date
from decimal import Decimal
from functools import lru_cache

from django.utils import translation

from core.money import Money, babel_locale, format_money

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Text:
    msgid: str
    params: dict = field(default_factory=dict, hash=False)

    def to_json(self) -> dict:
        return {"msgid": self.msgid, "params": self.params} if self.params else {"msgid": self.msgid}

    def english(self) -> str:
        return render(self, "en")

    def __str__(self) -> str:
        return render(self)


def text(msgid: str, **params) -> Text:
    return Text(msgid, {name: _param(value) for name, value in params.items()})


def number(value) -> dict:
    return {"number": _plain(value)}


def percent(value) -> dict:
    """A rate in percent points (``6.3`` is 6.3 %)."""
    return {"percent": _plain(value)}


def fx_rate(value) -> dict:
    return {"fx": _plain(value)}


def country(code: str) -> dict:
    return {"country": code}


def _plain(value) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def _param(value):
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, Money):
        return {"money": value.to_api()}
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | Decimal):
        return number(value)
    if isinstance(value, Date):
        return {"date": value.isoformat()}
    if isinstance(value, dict | str):
        return value
    return str(value)


def render(value, language: str | None = None) -> str:
    """The message in ``language`` (the active one by default), its parameters formatted for it."""
    if language:
        with translation.override(language):
            return render(value)
    if value is None or value == "":
        return ""
    if isinstance(value, Text):
        value = value.to_json()
    if isinstance(value, str):
        return translation.gettext(value)
    if isinstance(value, dict) and "msgid" in value:
        params = {name: _format(param) for name, param in (value.get("params") or {}).items()}
        message = translation.gettext(value["msgid"])
        try:
            return message % params if params else message
        except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder falls back to English
            log.warning("Broken translation of %r", value["msgid"])
            return value["msgid"] % params
    return str(value)


def stored(value):
    """What to keep of a message in JSON: a Text as its id and parameters, a string as it is."""
    return value.to_json() if isinstance(value, Text) else value


def note(reason: str, payload: dict | None) -> str:
    """An event's note in the reader's language: its stored message if it has one, else its text."""
    return render((payload or {}).get("reason_text") or reason)


def render_all(values, language: str | None = None) -> list[str]:
    return [render(value, language) for value in values or []]


def _format(param) -> str:
    if not isinstance(param, dict):
        return str(param)
    if "msgid" in param:
        return render(param)
    if "money" in param:
        return format_money(Money.from_api(param["money"]), translation.get_language() or "en")
    for kind in ("number", "percent", "fx", "date"):
        if kind in param:
            return _babel(kind, param[kind], babel_locale(translation.get_language() or "en"))
    if "country" in param:
        return country_name(param["country"], translation.get_language() or "en")
    return str(param)


@lru_cache(maxsize=4096)
def _babel(kind: str, value, locale: str) -> str:
    """A number, percentage, FX rate or date as ``locale`` writes it. Kept per process: the same few
    rates and dates recur in every breakdown, and Babel parses its pattern on each call (a batch of
    a hundred parcels spent a tenth of its filing here)."""
    from babel.dates import format_date
    from babel.numbers import format_decimal, format_percent

    if kind == "number":
        return format_decimal(Decimal(value), locale=locale, decimal_quantization=False)
    if kind == "percent":
        return format_percent(Decimal(value) / 100, locale=locale, decimal_quantization=False)
    if kind == "fx":
        return format_decimal(Decimal(value), format="#,##0.####", locale=locale)
    return format_date(Date.fromisoformat(value), format="medium", locale=locale)


def country_name(code: str, language: str) -> str:
    country = _countries().get(code)
    return country.name(language) if country else code


@lru_cache(maxsize=1)
def _countries() -> dict:
    from core.models import Country

    return {country.pk: country for country in Country.objects.all()}


def forget_countries(**kwargs) -> None:
    _countries.cache_clear()
