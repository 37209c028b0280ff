"""Tax ids per country: check digits where they exist, formats where they do not."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError
from core.taxids import is_valid, validate_tax_id


def _kz_reference(first11: str) -> int | None:
    """The published rule, written out independently of the implementation."""
    d = [int(c) for c in first11]
    s = sum(d[i] * (i + 1) for i in range(11)) % 11
    if s == 10:
        w = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
        s = sum(d[i] * w[i] for i in range(11)) % 11
        return None if s == 10 else s
    return s


@pytest.mark.parametrize(("value", "ok"), [
    ("100000000001", True),    # first pass: 1*1 = 1
    ("000000000010", True),    # first pass: 11*1 = 11 -> 0
    ("100000000002", False),
    ("123456789013", True),    # first pass gives 10; second (weights 3..11,1,2) 377 mod 11 = 3
    ("123456789010", False),   # 10 from the first pass is never the check digit itself
    ("1234 5678 9013", True),  # spaces as people type them
])
def test_kazakh_bin_examples_worked_by_hand(value, ok):
    assert is_valid("KZ", value) is ok


def test_kazakh_number_where_both_passes_give_ten_is_invalid():
    prefix = next(
        f"{n:011d}" for n in range(2_000_000)
        if _kz_reference(f"{n:011d}") is None
    )
    for last in "0123456789":
        assert not is_valid("KZ", prefix + last)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.integers(0, 9))
def test_kazakh_validator_agrees_with_the_published_rule(first11, last):
    expected = _kz_reference(first11)
    assert is_valid("KZ", first11 + str(last)) == (expected == last)


@pytest.mark.parametrize("value", ["12345678901", "1234567890123", "12345678901a", ""])
def test_kazakh_wrong_length_or_letters(value):
    with pytest.raises(DomainError) as exc:
        validate_tax_id("KZ", value)
    assert exc.value.code == "invalid_tax_id" and "tax_id" in exc.value.fields


def test_chinese_uscc_check_character():
    assert validate_tax_id("CN", "91110000600037341L").value == "91110000600037341L"
    assert validate_tax_id("CN", "91110000 600037341l").value == "91110000600037341L"
    with pytest.raises(DomainError) as exc:
        validate_tax_id("CN", "91110000600037341M")
    assert "check" in exc.value.message
    with pytest.raises(DomainError):
        validate_tax_id("CN", "9111000060003734")


@pytest.mark.parametrize(("country", "good", "bad"), [
    ("UZ", "301234567", "30123456"),
    ("KG", "01234567890123", "0123456789012"),
    ("TJ", "020012345", "0200123456"),
])
def test_format_only_countries(country, good, bad):
    result = validate_tax_id(country, good)
    assert result.value == good and not result.needs_manual_check
    with pytest.raises(DomainError):
        validate_tax_id(country, bad)
    with pytest.raises(DomainError):
        validate_tax_id(country, good[:-1] + "X")


def test_turkmen_digits_are_accepted_and_flagged_for_a_manual_check():
    result = validate_tax_id("TM", "101234567890")
    assert result.needs_manual_check
    with pytest.raises(DomainError):
        validate_tax_id("TM", "ABC123")


def test_countries_without_rules_are_refused():
    with pytest.raises(DomainError) as exc:
        validate_tax_id("RU", "7707083893")
    assert exc.value.code == "invalid_tax_id"
