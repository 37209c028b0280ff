"""The recipient's identity document that customs ask for on a buyer's parcel, by destination country.

- China (CN): the 18-character resident ID number (居民身份证号码, GB 11643): a 6-digit region code,
  the birth date YYYYMMDD, a 3-digit sequence and a check character (ISO 7064 MOD 11-2, 0-9 or X;
  computed with python-stdnum ``cn.ric``). The region code is not looked up: the check character
  already catches typos, and a region table that is not complete would refuse real people.
- Kazakhstan (KZ): the 12-digit IIN, with the mod-11 check of the BIN (``core.taxids``); digits 1-6
  are the birth date YYMMDD and digit 7 gives century and sex (1-2: 1800s, 3-4: 1900s, 5-6: 2000s).
- Uzbekistan (UZ): the 14-digit PINFL (digit 1 century and sex, 3-4: 1900s, 5-6: 2000s; digits 2-7
  the birth date DDMMYY), or the passport number (2 Latin letters and 7 digits, e.g. AA1234567).
- Kyrgyzstan, Tajikistan and Turkmenistan: no document is asked for (and none is kept).

Errors are ``validation_error`` on the field ``ship_to.id_number``, in the reader's language, and say
what is wrong: the length, the check digit, an impossible birth date, or a document of another country
(a Kazakh IIN given for China, a Chinese ID for Kazakhstan...).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.cn import ric

from .errors import DomainError, field_error
from .taxids import kz_check_digit

FIELD = "ship_to.id_number"

_NEEDS_ID = frozenset({"CN", "KZ", "UZ"})

_COUNTRY_NAMES = {"CN": gettext_lazy("China"), "KZ": gettext_lazy("Kazakhstan"), "UZ": gettext_lazy("Uzbekistan")}

_LABELS = {
    "CN": gettext_lazy("Resident ID number (居民身份证号码)"),
    "KZ": gettext_lazy("IIN"),
    "UZ": gettext_lazy("PINFL or passport number"),
}

# A document of another country, by (destination, what the value looks like).
_OTHER_COUNTRY = {
    ("CN", "KZ"): gettext_lazy("This ID number is for another country: it is a Kazakh IIN. "
                        "A parcel into China needs the recipient's Chinese resident ID number."),
    ("CN", "UZ"): gettext_lazy("This ID number is for another country: it is an Uzbek PINFL. "
                        "A parcel into China needs the recipient's Chinese resident ID number."),
    ("KZ", "CN"): gettext_lazy("This ID number is for another country: it is a Chinese resident ID number. "
                        "A parcel into Kazakhstan needs the recipient's IIN."),
    ("KZ", "UZ"): gettext_lazy("This ID number is for another country: it is an Uzbek PINFL. "
                        "A parcel into Kazakhstan needs the recipient's IIN."),
    ("UZ", "CN"): gettext_lazy("This ID number is for another country: it is a Chinese resident ID number. "
                        "A parcel into Uzbekistan needs the recipient's PINFL or passport number."),
    ("UZ", "KZ"): gettext_lazy("This ID number is for another country: it is a Kazakh IIN. "
                        "A parcel into Uzbekistan needs the recipient's PINFL or passport number."),
}

# Cyrillic capitals that look like Latin ones (a passport series typed on a Russian keyboard).
_HOMOGLYPHS = str.maketrans("АВЕКМНОРСТХУ", "ABEKMHOPCTXY")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]")

_CN_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_UZ_PASSPORT = re.compile(r"[A-Z]{2}[0-9]{7}")
# Passport numbers of the region: 2 letters + 7 digits (UZ, newer CN "EA…"), 1 letter + 8 digits (CN "E…", KZ "N…").
_ANY_PASSPORT = re.compile(r"[A-Z]{2}[0-9]{7}|[A-Z][0-9]{8}")
_CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


def needs_id(country: str) -> bool:
    """Whether a parcel into ``country`` (ISO alpha-2, any case) needs the recipient's ID number."""
    return (country or "").upper() in _NEEDS_ID


def label(country: str) -> str:
    """The translated name of the document for ``country``'s form field; "" where none is needed."""
    text = _LABELS.get((country or "").upper())
    return str(text) if text is not None else ""


def mask(value: str) -> str:
    """``value`` with all but its last 4 characters starred, at the same length.

    A value of 4 characters or fewer is starred whole, so nothing is ever shown back in full.
    Pass the normalised value (from :func:`validate_id`), so that separators do not shift the stars.
    """
    value = value or ""
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def validate_id(country: str, value: str) -> str:
    """The normalised ID number of the recipient of a parcel into ``country``.

    Spaces and hyphens are removed, full-width characters made ASCII and letters upper-cased (the X of
    a Chinese ID, a passport series, Cyrillic look-alikes of Latin letters included). Raises
    ``DomainError`` (``validation_error``, field ``ship_to.id_number``) when the value is missing or
    wrong. For a country that needs no ID, returns "" whatever was given: it is not kept.
    """
    country = (country or "").upper()
    if country not in _NEEDS_ID:
        return ""
    number = _compact(value)
    if not number:
        raise _error(_("The customs of %(country)s need the recipient's ID number.")
                     % {"country": _COUNTRY_NAMES[country]})
    return _VALIDATORS[country](number)


# --- per country ----------------------------------------------------------------------------------

def _validate_cn(number: str) -> str:
    if _CN_SHAPE.fullmatch(number):
        if ric.calc_check_digit(number) != number[-1]:  # stdnum's function ignores the last character
            raise _check_digit_error()
        if not _birth_date_ok(int(number[6:10]), int(number[10:12]), int(number[12:14]), earliest_year=1900):
            raise _birth_date_error()
        return number
    if len(number) == 18:
        raise _error(_("A resident ID number has 17 digits followed by a digit or X."))
    _refuse_other_country("CN", number)
    if _ANY_PASSPORT.fullmatch(number):
        raise _error(_("A passport number is not accepted here: "
                       "the customs of China need the recipient's resident ID number."))
    if re.fullmatch(r"[0-9]{15}", number):
        raise _error(_("This is an old 15-digit ID number, no longer valid: "
                       "enter the recipient's 18-character resident ID number."))
    raise _error(_("Enter the 18-character resident ID number of the recipient."))


def _validate_kz(number: str) -> str:
    if re.fullmatch(r"[0-9]{12}", number):
        if kz_check_digit(number[:11]) != int(number[11]):
            raise _check_digit_error()
        if number[4] in "456":
            # Digits 5-6 of an IIN are a day of the month (at most 31); a BIN has the kind of company
            # there (4: resident legal entity, 5: non-resident, 6: individual entrepreneur).
            raise _error(_("This is a company's BIN: enter the recipient's personal IIN."))
        if number[6] not in _CENTURY:
            raise _error(_("This is not a valid IIN: its 7th digit (century and sex) must be 1 to 6."))
        year = _CENTURY[number[6]] + int(number[0:2])
        if not _birth_date_ok(year, int(number[2:4]), int(number[4:6])):
            raise _birth_date_error()
        return number
    _refuse_other_country("KZ", number)
    if _ANY_PASSPORT.fullmatch(number):
        raise _error(_("A passport number is not accepted here: the customs of Kazakhstan need the recipient's IIN."))
    raise _error(_("Enter the 12-digit IIN of the recipient."))


def _validate_uz(number: str) -> str:
    # No check digit of the PINFL is officially published (the last digit is said to be one, but its
    # rule is not confirmed), so only the format and the birth date are checked.
    if re.fullmatch(r"[0-9]{14}", number):
        if number[0] not in "3456":
            raise _error(_("This is not a valid PINFL: its first digit (century and sex) must be 3 to 6."))
        if not _pinfl_date_ok(number):
            raise _birth_date_error()
        return number
    if _UZ_PASSPORT.fullmatch(number):
        return number
    _refuse_other_country("UZ", number)
    raise _error(_("Enter the recipient's PINFL (14 digits) or passport number "
                   "(2 Latin letters and 7 digits, e.g. AA1234567)."))


_VALIDATORS = {"CN": _validate_cn, "KZ": _validate_kz, "UZ": _validate_uz}


# --- helpers --------------------------------------------------------------------------------------

def _compact(value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "")  # full-width digits and letters of Chinese input methods
    return _SEPARATORS.sub("", text).upper().translate(_HOMOGLYPHS)


def _error(message: str) -> DomainError:
    return field_error(FIELD, str(message))


def _check_digit_error() -> DomainError:
    return _error(_("The check digit of this ID number is wrong: please check for a typo."))


def _birth_date_error() -> DomainError:
    return _error(_("The birth date in this ID number is impossible (not a real date, or in the future): "
                    "please check for a typo."))


def _latest_date() -> dt.date:
    """Today somewhere on Earth (UTC+14): a baby born today in Beijing or Almaty is not refused."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=14)).date()


def _birth_date_ok(year: int, month: int, day: int, earliest_year: int = 1800) -> bool:
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return False
    return earliest_year <= year and born <= _latest_date()


def _pinfl_date_ok(number: str) -> bool:
    year = _CENTURY[number[0]] + int(number[5:7])
    return _birth_date_ok(year, int(number[3:5]), int(number[1:3]))


def _looks_like(number: str) -> str | None:
    """The country whose ID number ``number`` is, judged by its shape and checks; None if unsure."""
    if _CN_SHAPE.fullmatch(number) and ric.calc_check_digit(number) == number[-1]:
        return "CN"
    if re.fullmatch(r"[0-9]{12}", number) and kz_check_digit(number[:11]) == int(number[11]):
        return "KZ"
    if re.fullmatch(r"[3-6][0-9]{13}", number) and _pinfl_date_ok(number):
        return "UZ"
    return None


def _refuse_other_country(country: str, number: str) -> None:
    found = _looks_like(number)
    if found is not None and found != country:
        raise _error(_OTHER_COUNTRY[(country, found)])
