"""Input checks shared by quotes and declarations: each failure names its field."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode
from core.money import Money

HS_FORMAT = re.compile(r"^\d{6,10}$")
# HS chapters 01-97 exist; 77 is reserved for future use and has no goods.
KNOWN_CHAPTERS = frozenset(f"{n:02d}" for n in range(1, 98)) - {"77"}
MAX_QUANTITY = 1_000_000
MAX_WEIGHT_KG = Decimal("1000000")


def country(code, field: str) -> str:
    from .rules.data import country_known

    value = (code or "").strip().upper() if isinstance(code, str) else ""
    if not value or not country_known(value):
        message = _("Unknown country %(code)s.") % {"code": repr(code)}
        raise DomainError(ErrorCode.UNKNOWN_COUNTRY, message, {field: [message]})
    return value


def hs_code(code, field: str) -> str:
    value = re.sub(r"[\s.]", "", code) if isinstance(code, str) else ""
    if not HS_FORMAT.match(value):
        raise DomainError(ErrorCode.INVALID_HS_CODE, _("HS code %(code)s must have 6 to 10 digits.") % {"code": repr(code)},
                          {field: [_("An HS code has 6 to 10 digits.")]})
    if value[:2] not in KNOWN_CHAPTERS:
        raise DomainError(ErrorCode.INVALID_HS_CODE, _("HS code %(code)s is in no known chapter.") % {"code": repr(code)},
                          {field: [_("Chapter %(chapter)s does not exist in the HS.") % {"chapter": value[:2]}]})
    return value


def quantity(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise DomainError(ErrorCode.VALIDATION, _("Quantity must be a whole number from 1 to %(max)s.") % {"max": f"{MAX_QUANTITY:,}"},
                          {field: [_("A whole number from 1 to %(max)s.") % {"max": f"{MAX_QUANTITY:,}"}]})
    return value


def weight(value, field: str, *, allow_zero: bool = False) -> Decimal:
    if value is None or value == "":
        raise DomainError(ErrorCode.VALIDATION, _("Weight is required."), {field: [_("Weight is required.")]})
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(ErrorCode.VALIDATION, _("Weight must be a number of kg."), {field: [_("A number of kg.")]}) from None
    if not number.is_finite() or number < 0 or (number == 0 and not allow_zero) or number > MAX_WEIGHT_KG:
        raise DomainError(ErrorCode.VALIDATION, _("Weight must be a positive number of kg."),
                          {field: [_("A positive number of kg.")]})
    if number != number.quantize(Decimal("0.001")):
        raise DomainError(ErrorCode.VALIDATION, _("Weight has at most 3 decimals (grams)."), {field: [_("At most 3 decimals.")]})
    return number


def amount(value: Money, field: str) -> Money:
    if not isinstance(value, Money):
        raise DomainError(ErrorCode.VALIDATION, _("Expected an amount with its currency."), {field: [_("Expected an amount.")]})
    if value.minor < 0:
        raise DomainError(ErrorCode.INVALID_AMOUNT, _("Amounts must not be negative."), {field: [_("Must not be negative.")]})
    return value


def same_currency(value: Money, currency: str, field: str) -> Money:
    if value.currency != currency:
        raise DomainError(ErrorCode.CURRENCY_MISMATCH,
                          _("Expected %(expected)s, got %(got)s.") % {"expected": currency, "got": value.currency},
                          {field: [_("All amounts must be in %(currency)s.") % {"currency": currency}]})
    return value
