"""Load core reference data (currencies, countries, places) from reference/*.csv. Idempotent."""

import csv
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from .models import Country, Currency, Place

REFERENCE_DIR = Path(settings.BASE_DIR) / "reference"


def rows(name: str) -> list[dict]:
    with open(REFERENCE_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _decimal(value: str):
    return Decimal(value) if value not in ("", None) else None


def load() -> dict[str, int]:
    for row in rows("currencies.csv"):
        Currency.objects.update_or_create(
            code=row["code"],
            defaults={
                "numeric": row["numeric"], "minor_units": int(row["minor_units"]), "symbol": row["symbol"],
                "name_en": row["name_en"], "usd_per_unit": _decimal(row["usd_per_unit"]),
                "rate_date": row["rate_date"] or None, "status": row["rate_status"], "source": row["source"],
            },
        )
    for row in rows("countries.csv"):
        Country.objects.update_or_create(
            iso2=row["iso2"],
            defaults={
                "iso3": row["iso3"], "name_en": row["name_en"], "name_ru": row["name_ru"], "name_zh": row["name_zh"],
                "currency_id": row["currency"], "customs_union": row["customs_union"],
                "default_languages": row["default_languages"], "capital": row["capital"],
                "status": row["status"], "source": row["source"],
            },
        )
    known = set(Country.objects.values_list("iso2", flat=True))
    for row in rows("places.csv"):
        single = row["country"] if row["country"] in known else None
        Place.objects.update_or_create(
            code=row["code"],
            defaults={
                "name_en": row["name_en"], "name_ru": row["name_ru"], "name_zh": row["name_zh"],
                "country_id": single, "countries": row["country"], "kind": row["kind"],
                "lat": _decimal(row["lat"]), "lon": _decimal(row["lon"]), "status": row["status"],
                "notes": row["notes"], "source": row["source"],
            },
        )
    # Kazakh and Uzbek names, which the reference files do not carry: the project's own data.
    with open(Path(__file__).resolve().parent / "data" / "local_names.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            model = {"country": Country, "place": Place}[row["kind"]]
            key = "iso2" if model is Country else "code"
            model.objects.filter(**{key: row["code"]}).update(name_kk=row["name_kk"], name_uz=row["name_uz"])
    return {"currencies": Currency.objects.count(), "countries": Country.objects.count(), "places": Place.objects.count()}
