"""The parcel rules' structured reading (customs/data/parcel_terms.csv) must match the reference rows."""

import pytest

from core.reference import rows
from customs import reference

pytestmark = pytest.mark.django_db


def _patched(monkeypatch, change):
    def patched(name):
        found = rows(name)
        return change(found) if name == "customs_thresholds.csv" else found

    monkeypatch.setattr(reference, "rows", patched)


def test_the_reference_loads_with_its_readings(tariff):
    assert reference.load()["parcel rules"] == len(rows("customs_thresholds.csv"))


def test_a_changed_charge_text_fails_the_load_until_its_reading_is_checked(tariff, monkeypatch):
    def new_rate(found):
        for r in found:
            if r["jurisdiction"] == "UZ" and r["effective_from"] == "2025-05-01" and r["value_limit"] == "200":
                r["charge_above"] = r["charge_above"].replace("3 USD per kg", "4 USD per kg")
        return found

    _patched(monkeypatch, new_rate)
    with pytest.raises(ValueError, match="changed its charge text"):
        reference.load()


def test_a_reading_left_without_its_row_fails_the_load(tariff, monkeypatch):
    _patched(monkeypatch, lambda found: [r for r in found if r["effective_from"] != "2026-07-01"])
    with pytest.raises(ValueError, match="no longer in customs_thresholds.csv"):
        reference.load()
