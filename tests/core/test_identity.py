"""The recipient's ID number that customs ask for on a parcel, and the encryption of personal data at rest."""

import base64
import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from core import crypto
from core.errors import DomainError, ErrorCode
from core.identity import label, mask, needs_id, validate_id
from core.taxids import kz_make

CHECK_DIGIT = "The check digit of this ID number is wrong: please check for a typo."
BIRTH_DATE = "The birth date in this ID number is impossible (not a real date, or in the future): please check for a typo."
CN_LENGTH = "Enter the 18-character resident ID number of the recipient."
KZ_LENGTH = "Enter the 12-digit IIN of the recipient."
UZ_FORMAT = "Enter the recipient's PINFL (14 digits) or passport number (2 Latin letters and 7 digits, e.g. AA1234567)."


# --- builders of valid numbers ----------------------------------------------------------------------

def cn_id(birth: str = "19900307", region: str = "110105", sequence: str = "123") -> str:
    """A Chinese resident ID with the check character computed by python-stdnum."""
    first17 = region + birth + sequence
    # stdnum's calc_check_digit takes the whole number and ignores its last character.
    return first17 + ric.calc_check_digit(first17 + "?")


def iin(birth: str = "900307", century: str = "3", serial: int = 1) -> str:
    """A Kazakh IIN (birth YYMMDD, century/sex digit, serial) with the check digit of core.taxids."""
    for n in range(serial, 10_000):
        number = kz_make(birth + century + f"{n:04d}")
        if number is not None:
            return number
    raise AssertionError("no serial gives a check digit")


def pinfl(birth: str = "070390", century: str = "3", rest: str = "1234567") -> str:
    """An Uzbek PINFL: century/sex digit, birth DDMMYY, district, serial and last digit."""
    return century + birth + rest


def _gb11643_reference(first17: str) -> str:
    """The published GB 11643 rule, written out independently of stdnum."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


def refused(country: str, value: str) -> str:
    """The message of the field error that ``validate_id`` raises."""
    with pytest.raises(DomainError) as exc:
        validate_id(country, value)
    error = exc.value
    assert error.code == ErrorCode.VALIDATION and error.status == 400
    assert error.fields == {"ship_to.id_number": [error.message]}
    return error.message


def _with_wrong_last(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


# --- which countries ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("country", "needed"), [
    ("CN", True), ("KZ", True), ("UZ", True), ("cn", True), ("kz", True),
    ("KG", False), ("TJ", False), ("TM", False), ("RU", False), ("", False),
])
def test_needs_id(country, needed):
    assert needs_id(country) is needed


@pytest.mark.parametrize("country", ["KG", "TJ", "TM"])
def test_no_id_asked_or_kept_where_none_is_needed(country):
    assert validate_id(country, "") == ""
    assert validate_id(country, iin()) == ""  # given anyway: not kept
    assert label(country) == ""


def test_labels():
    assert label("CN") == "Resident ID number (居民身份证号码)"
    assert label("kz") == "IIN"
    assert label("UZ") == "PINFL or passport number"


@pytest.mark.parametrize(("country", "name"), [("CN", "China"), ("KZ", "Kazakhstan"), ("UZ", "Uzbekistan")])
@pytest.mark.parametrize("value", ["", "   ", " - ", None])
def test_missing_id_names_the_country(country, name, value):
    assert refused(country, value) == f"The customs of {name} need the recipient's ID number."


# --- China --------------------------------------------------------------------------------------------

def test_chinese_ids_valid():
    assert validate_id("CN", "11010519491231002X") == "11010519491231002X"  # the GB 11643 example
    assert validate_id("CN", "360426199101010071") == "360426199101010071"  # python-stdnum's example
    number = cn_id()
    assert validate_id("CN", number) == number
    assert validate_id("CN", f" {number[:6]} {number[6:14]}-{number[14:]} ") == number


def test_chinese_id_normalised():
    assert validate_id("CN", "11010519491231002x") == "11010519491231002X"  # lower-case x
    assert validate_id("CN", "110105 1949 1231 002Х") == "11010519491231002X"  # Cyrillic Х
    full_width = "１１０１０５１９４９１２３１００２Ｘ"  # typed with a Chinese input method
    assert validate_id("CN", full_width) == "11010519491231002X"


def test_chinese_id_born_in_2000s():
    number = cn_id("20200229", region="440305")
    assert validate_id("CN", number) == number


@given(st.text(alphabet="0123456789", min_size=6, max_size=6), st.text(alphabet="0123456789", min_size=3, max_size=3))
def test_chinese_check_character_agrees_with_gb11643(region, sequence):
    first17 = region + "19850615" + sequence
    good = _gb11643_reference(first17)
    assert validate_id("CN", first17 + good) == first17 + good
    for wrong in "0123456789X".replace(good, "")[:3]:
        assert refused("CN", first17 + wrong) == CHECK_DIGIT


def test_chinese_id_wrong_check_digit():
    assert refused("CN", "110105194912310021") == CHECK_DIGIT
    assert refused("CN", _with_wrong_last(cn_id())) == CHECK_DIGIT


@pytest.mark.parametrize("value", [cn_id()[:17], cn_id() + "1", "1101051949", "12345"])
def test_chinese_id_wrong_length(value):
    assert refused("CN", value) == CN_LENGTH


@pytest.mark.parametrize("value", ["11010519491231002A", "1101051949123100XX", "A10105194912310021"])
def test_chinese_id_letters_where_digits_go(value):
    assert refused("CN", value) == "A resident ID number has 17 digits followed by a digit or X."


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900100", "18991231", "20990101"])
def test_chinese_id_impossible_birth_date(birth):
    assert refused("CN", cn_id(birth)) == BIRTH_DATE


def test_kazakh_iin_given_for_china():
    assert refused("CN", iin()) == (
        "This ID number is for another country: it is a Kazakh IIN. "
        "A parcel into China needs the recipient's Chinese resident ID number."
    )


def test_uzbek_pinfl_given_for_china():
    assert refused("CN", pinfl()) == (
        "This ID number is for another country: it is an Uzbek PINFL. "
        "A parcel into China needs the recipient's Chinese resident ID number."
    )


@pytest.mark.parametrize("value", ["E12345678", "EA1234567", "AA1234567"])
def test_passport_given_for_china(value):
    assert refused("CN", value) == (
        "A passport number is not accepted here: the customs of China need the recipient's resident ID number."
    )


def test_old_15_digit_chinese_id():
    assert refused("CN", "110105491231002") == (
        "This is an old 15-digit ID number, no longer valid: enter the recipient's 18-character resident ID number."
    )


# --- Kazakhstan ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("birth", "century"), [
    ("900307", "3"), ("900307", "4"), ("051120", "5"), ("051120", "6"), ("000229", "5"), ("991231", "2"),
])
def test_kazakh_iin_valid(birth, century):
    number = iin(birth, century)
    assert validate_id("KZ", number) == number
    assert validate_id("kz", f"{number[:6]} {number[6:]}") == number
    assert validate_id("KZ", f"{number[:4]}-{number[4:8]}-{number[8:]}") == number


def test_kazakh_iin_wrong_check_digit():
    assert refused("KZ", _with_wrong_last(iin())) == CHECK_DIGIT


@pytest.mark.parametrize("value", [iin()[:11], iin() + "0", "9003073", "90030730001a"])
def test_kazakh_iin_wrong_length(value):
    assert refused("KZ", value) == KZ_LENGTH


@pytest.mark.parametrize(("birth", "century"), [
    ("900230", "3"),  # 30 February
    ("901301", "3"),  # month 13
    ("900300", "3"),  # day 0
    ("010229", "5"),  # 2001 is not a leap year
    ("990101", "5"),  # 2099: in the future
])
def test_kazakh_iin_impossible_birth_date(birth, century):
    assert refused("KZ", iin(birth, century)) == BIRTH_DATE


@pytest.mark.parametrize("century", ["0", "7", "8", "9"])
def test_kazakh_iin_seventh_digit_is_century_and_sex(century):
    assert refused("KZ", iin("900307", century)) == (
        "This is not a valid IIN: its 7th digit (century and sex) must be 1 to 6."
    )


def test_company_bin_given_for_a_person():
    # A BIN: registered 2010-07, kind 4 (resident legal entity), attribute 0, then a serial.
    bin_ = kz_make("10074000123") or kz_make("10074000124")
    assert refused("KZ", bin_) == "This is a company's BIN: enter the recipient's personal IIN."


def test_chinese_id_given_for_kazakhstan():
    assert refused("KZ", cn_id()) == (
        "This ID number is for another country: it is a Chinese resident ID number. "
        "A parcel into Kazakhstan needs the recipient's IIN."
    )


def test_uzbek_pinfl_given_for_kazakhstan():
    assert refused("KZ", pinfl()) == (
        "This ID number is for another country: it is an Uzbek PINFL. A parcel into Kazakhstan needs the recipient's IIN."
    )


def test_passport_given_for_kazakhstan():
    assert refused("KZ", "N12345678") == (
        "A passport number is not accepted here: the customs of Kazakhstan need the recipient's IIN."
    )


# --- Uzbekistan ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [
    pinfl("070390", "3"), pinfl("070390", "4"), pinfl("290208", "5"), pinfl("311205", "6"),
])
def test_uzbek_pinfl_valid(number):
    assert validate_id("UZ", number) == number
    assert validate_id("UZ", f"{number[:7]} {number[7:]}") == number


@pytest.mark.parametrize("century", ["0", "1", "2", "7", "9"])
def test_uzbek_pinfl_first_digit_is_century_and_sex(century):
    assert refused("UZ", pinfl("070390", century)) == (
        "This is not a valid PINFL: its first digit (century and sex) must be 3 to 6."
    )


@pytest.mark.parametrize(("birth", "century"), [
    ("300290", "3"),  # 30 February
    ("071390", "3"),  # month 13
    ("000390", "3"),  # day 0
    ("290201", "5"),  # 29 February 2001
    ("010199", "5"),  # 2099: in the future
])
def test_uzbek_pinfl_impossible_birth_date(birth, century):
    assert refused("UZ", pinfl(birth, century)) == BIRTH_DATE


@pytest.mark.parametrize(("value", "normalised"), [
    ("AA1234567", "AA1234567"),
    ("aa 1234567", "AA1234567"),
    ("AD-1234567", "AD1234567"),
    ("АА1234567", "AA1234567"),  # Cyrillic А А typed on a Russian keyboard
    ("ＡＢ１２３４５６７", "AB1234567"),  # full-width
])
def test_uzbek_passport_valid(value, normalised):
    assert validate_id("UZ", value) == normalised


@pytest.mark.parametrize("value", ["A1234567", "AA123456", "AA12345678", "AAA1234567", "1234567AA", "ЖЖ1234567",
                                   pinfl()[:13], pinfl() + "1"])
def test_uzbek_wrong_format(value):
    assert refused("UZ", value) == UZ_FORMAT


def test_chinese_id_given_for_uzbekistan():
    assert refused("UZ", cn_id()) == (
        "This ID number is for another country: it is a Chinese resident ID number. "
        "A parcel into Uzbekistan needs the recipient's PINFL or passport number."
    )


def test_kazakh_iin_given_for_uzbekistan():
    assert refused("UZ", iin()) == (
        "This ID number is for another country: it is a Kazakh IIN. "
        "A parcel into Uzbekistan needs the recipient's PINFL or passport number."
    )


def test_birth_today_in_asia_is_accepted():
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    number = cn_id(today.strftime("%Y%m%d"))
    assert validate_id("CN", number) == number


# --- mask ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "masked"), [
    ("110105199003071234", "**************1234"),
    ("900307300012", "********0012"),
    ("AA1234567", "*****4567"),
    ("12345", "*2345"),
    ("1234", "****"),  # never shown in full
    ("12", "**"),
    ("", ""),
])
def test_mask(value, masked):
    assert mask(value) == masked
    assert len(mask(value)) == len(value)


# --- encryption at rest -------------------------------------------------------------------------------

@pytest.fixture
def key_a():
    return Fernet.generate_key().decode()


@pytest.fixture
def key_b():
    return Fernet.generate_key().decode()


@pytest.mark.parametrize("text", ["11010519491231002X", "AA1234567", "", "张伟 / Жанар Әбілқызы"])
def test_encrypt_decrypt_round_trip(text):
    token = crypto.encrypt(text)
    assert isinstance(token, str) and token.isascii()
    assert text == "" or text not in token
    assert crypto.decrypt(token) == text


def test_each_encryption_differs():
    assert crypto.encrypt("900307300012") != crypto.encrypt("900307300012")


def test_token_length_for_an_id_number():
    assert len(crypto.encrypt("11010519491231002X")) == 120


def test_default_key_in_test_mode_derives_from_secret_key():
    """Read in a fresh process without PERSONAL_DATA_KEYS in the environment, so the default is what
    is checked whatever the environment of this run holds."""
    env = {k: v for k, v in os.environ.items() if k != "PERSONAL_DATA_KEYS"}
    env.update(KARAVAN_ENV="test", DJANGO_SETTINGS_MODULE="config.settings", SECRET_KEY="a-secret-for-this-test")
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                          "print(','.join(settings.PERSONAL_DATA_KEYS))"],
                         env=env, capture_output=True, text=True, check=True)
    derived = base64.urlsafe_b64encode(hashlib.sha256(b"a-secret-for-this-test").digest()).decode()
    assert out.stdout.strip() == derived


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _flip(token: str, position: int) -> str:
    return token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1:]


@pytest.mark.parametrize("tamper", [
    lambda t: _flip(t, len(t) // 2),  # a byte of the ciphertext
    lambda t: _flip(t, 2),  # the timestamp
    lambda t: _flip(t, len(t) - 5),  # the HMAC
    lambda t: t[:-4],  # truncated
    lambda t: t + "AAAA",  # extended (after the padding, which base64 decoding would ignore)
    lambda t: t[:-2] + _B64[_B64.index(t[-2]) ^ 1] + t[-1],  # unused bits of the last base64 character
    lambda t: "not-a-token",
    lambda t: "",
    lambda t: t[:10] + "é" + t[11:],  # not ASCII
])
def test_tampered_token_is_refused(tamper):
    token = crypto.encrypt("11010519491231002X")
    assert token.endswith("=")  # 89 bytes: the last character has unused bits, then one padding
    with pytest.raises(crypto.DecryptionError, match="cannot be decrypted"):
        crypto.decrypt(tamper(token))


def test_token_of_another_key_is_refused(settings, key_a, key_b):
    settings.PERSONAL_DATA_KEYS = [key_a]
    token = crypto.encrypt("secret")
    settings.PERSONAL_DATA_KEYS = [key_b]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_key_rotation(settings, key_a, key_b):
    settings.PERSONAL_DATA_KEYS = [key_a]
    old = crypto.encrypt("900307300012")

    settings.PERSONAL_DATA_KEYS = [key_b, key_a]  # new key first, old one kept
    assert crypto.decrypt(old) == "900307300012"
    new = crypto.encrypt("AA1234567")
    rotated = crypto.rotate(old)
    assert rotated != old and crypto.decrypt(rotated) == "900307300012"

    settings.PERSONAL_DATA_KEYS = [key_b]  # old key dropped once everything is rotated
    assert crypto.decrypt(new) == "AA1234567"
    assert crypto.decrypt(rotated) == "900307300012"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(old)

    settings.PERSONAL_DATA_KEYS = [key_a]  # the new key encrypted: the old one alone cannot read it
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(new)


def test_rotate_refuses_a_tampered_token():
    with pytest.raises(crypto.DecryptionError):
        crypto.rotate(_flip(crypto.encrypt("x"), 40))


@pytest.mark.parametrize("keys", [[], ["not-a-key"], ["c2hvcnQ="]])
def test_bad_keys_are_a_configuration_error(settings, keys):
    settings.PERSONAL_DATA_KEYS = keys
    with pytest.raises(ImproperlyConfigured, match="PERSONAL_DATA_KEYS") as exc:
        crypto.encrypt("x")
    for key in keys:
        assert key not in str(exc.value)  # a key never appears in an error


def test_encrypt_and_decrypt_take_str():
    with pytest.raises(TypeError):
        crypto.encrypt(b"bytes")
    with pytest.raises(TypeError):
        crypto.decrypt(None)


def _import_production_settings(**extra):
    environment = {k: v for k, v in os.environ.items() if k not in {"PERSONAL_DATA_KEYS", "PYTEST_VERSION"}}
    environment.update(KARAVAN_ENV="production", SECRET_KEY="s" * 50, ALLOWED_HOSTS="karavan.example", **extra)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.PERSONAL_DATA_KEYS)"],
        cwd=Path(django_settings.BASE_DIR), env=environment, capture_output=True, text=True, timeout=60,
    )


def test_production_requires_its_keys_from_the_environment():
    missing = _import_production_settings()
    assert missing.returncode != 0 and "PERSONAL_DATA_KEYS" in missing.stderr
    empty = _import_production_settings(PERSONAL_DATA_KEYS="")
    assert empty.returncode != 0 and "PERSONAL_DATA_KEYS is empty" in empty.stderr
    given_keys = _import_production_settings(PERSONAL_DATA_KEYS="k1,k2")
    assert given_keys.returncode == 0, given_keys.stderr
    assert given_keys.stdout.strip() == "['k1', 'k2']"
