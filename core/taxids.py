"""Tax identification numbers of the companies that sell on Karavan, by country.

China's USCC has a published mod-31 check (python-stdnum ``cn.uscc``). Kazakhstan's BIN/IIN has a
mod-11 check with a second pass. Uzbekistan, Kyrgyzstan and Tajikistan publish no check digit, so
only the format is checked. Turkmenistan's format is not documented: digits are accepted and the
company is flagged for a manual check by staff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc

from .errors import DomainError, ErrorCode

_WEIGHTS_1 = tuple(range(1, 12))
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


@dataclass(frozen=True)
class TaxId:
    """A validated tax id in its canonical form."""

    country: str
    value: str
    needs_manual_check: bool = False


def _error(message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_TAX_ID, message, {"tax_id": [message]})


def _compact(value: str) -> str:
    return re.sub(r"[\s\-./]", "", value or "").upper()


def kz_check_digit(first11: str) -> int | None:
    """The 12th digit of a Kazakh BIN/IIN, or None where the second pass also gives 10 (invalid)."""
    digits = [int(c) for c in first11]
    check = sum(d * w for d, w in zip(digits, _WEIGHTS_1, strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, _WEIGHTS_2, strict=True)) % 11
        if check == 10:
            return None
    return check


def validate_kz(value: str) -> str:
    number = _compact(value)
    if not re.fullmatch(r"\d{12}", number):
        raise _error(_("A Kazakh BIN/IIN has 12 digits."))
    if kz_check_digit(number[:11]) != int(number[11]):
        raise _error(_("This BIN/IIN fails its check digit: please check for a typo."))
    return number


def validate_cn(value: str) -> str:
    number = _compact(value)
    try:
        return uscc.validate(number)
    except stdnum_exceptions.InvalidChecksum:
        raise _error(_("This unified social credit code fails its check character: please check for a typo.")) from None
    except stdnum_exceptions.ValidationError:
        raise _error(_("A unified social credit code has 18 characters (digits and capital letters).")) from None


def _digits(count: int, message: str):
    def validate(value: str) -> str:
        number = _compact(value)
        if not re.fullmatch(rf"\d{{{count}}}", number):
            raise _error(str(message))
        return number

    return validate


validate_uz = _digits(9, gettext_lazy("An Uzbek INN (STIR) has 9 digits."))
validate_kg = _digits(14, gettext_lazy("A Kyrgyz INN has 14 digits."))
validate_tj = _digits(9, gettext_lazy("A Tajik INN has 9 digits."))

VALIDATORS = {"KZ": validate_kz, "CN": validate_cn, "UZ": validate_uz, "KG": validate_kg, "TJ": validate_tj}


def validate_tax_id(country: str, value: str) -> TaxId:
    """Check ``value`` against ``country``'s format; raise ``invalid_tax_id`` naming the field."""
    country = (country or "").upper()
    if not _compact(value):
        raise _error(_("Enter the company's tax id."))
    if country == "TM":
        number = _compact(value)
        if not number.isdigit() or not 6 <= len(number) <= 16:
            raise _error(_("A Turkmen tax id is written in digits."))
        return TaxId(country, number, needs_manual_check=True)
    validator = VALIDATORS.get(country)
    if validator is None:
        raise _error(_("Companies from this country cannot register yet."))
    return TaxId(country, validator(value))


def is_valid(country: str, value: str) -> bool:
    try:
        validate_tax_id(country, value)
    except DomainError:
        return False
    return True


def kz_make(first11: str) -> str | None:
    """A valid BIN from its first 11 digits (demo and benchmark data), or None if none exists."""
    check = kz_check_digit(first11)
    return None if check is None else first11 + str(check)


def cn_make(first17: str) -> str:
    """A valid USCC from its first 17 characters (demo and benchmark data)."""
    return first17 + uscc.calc_check_digit(first17)
