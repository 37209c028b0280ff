"""Load customs reference data from reference/ (HS codes, taxes, parcel thresholds). Idempotent.

Parcel limits, dates, statuses and sources come from reference/customs_thresholds.csv; the charge
terms (rate, per-kg minimum, period) are our structured reading of its free-text column, kept in
customs/data/parcel_terms.csv and matched row by row (jurisdiction, countries, limit, start date), so
that a changed reference row without a matching reading, or a reading left without its row, fails
the load instead of being silently ignored. Each reading also keeps the ``charge_above`` text it was
made from: when the reference changes that text (a new rate or minimum) the load fails until the
reading is checked and the text copied over. The free text itself is never parsed.
"""

import csv
import re
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from core.reference import rows

from .models import HsCode, ParcelRule, TaxRate

DATA_DIR = Path(__file__).resolve().parent / "data"
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


def _number(value: str) -> Decimal | None:
    match = _NUMBER.match(value or "")
    return Decimal(match.group(1)) if match else None


def _date(value: str):
    return value or None


def _terms() -> dict[tuple, dict]:
    with open(DATA_DIR / "parcel_terms.csv", newline="", encoding="utf-8") as fh:
        return {
            (r["jurisdiction"], r["countries"], _limit_key(r["value_limit"]), r["effective_from"]): r
            for r in csv.DictReader(fh)
        }


def _words(text: str) -> str:
    return " ".join((text or "").split())


def _limit_key(value: str) -> str:
    number = _number(value)
    return "" if number is None else format(number.normalize(), "f")


@transaction.atomic
def load() -> dict[str, int]:
    HsCode.objects.all().delete()
    HsCode.objects.bulk_create([
        HsCode(
            code=r["hs6"], description_en=r["description_en"], description_ru=r["description_ru"],
            eaeu_duty_percent=_number(r["eaeu_ett_rate"]), eaeu_rate_status=r["eaeu_rate_status"],
            cn_mfn_percent=_number(r["cn_mfn_rate"]), cn_vat_percent=_number(r["cn_import_vat"]),
            cn_rate_status=r["cn_rate_status"], notes=r["notes"], source=r["source"],
        )
        for r in rows("hs_codes.csv")
    ])
    TaxRate.objects.all().delete()
    TaxRate.objects.bulk_create([
        TaxRate(
            country=r["country"], tax=r["tax"], rate_percent=_number(r["rate_percent"]), scope=r["scope"],
            effective_from=_date(r["effective_from"]), effective_to=_date(r["effective_to"]),
            status=r["status"], notes=r["notes"], source=r["source"],
        )
        for r in rows("taxes.csv")
    ])
    terms = _terms()
    rules = []
    unread = set(terms)
    for r in rows("customs_thresholds.csv"):
        key = (r["jurisdiction"], r["countries"], _limit_key(r["value_limit"]), r["effective_from"])
        t = terms.get(key)
        if t is None:
            raise ValueError(f"customs_thresholds.csv row {key} has no reading in customs/data/parcel_terms.csv")
        unread.discard(key)
        if _words(t["charge_above"]) != _words(r["charge_above"]):
            raise ValueError(f"customs_thresholds.csv row {key} changed its charge text since it was read in "
                             f"customs/data/parcel_terms.csv: check the reading and copy the new text there")
        rules.append(ParcelRule(
            jurisdiction=r["jurisdiction"], countries=r["countries"], channel=t["channel"],
            description=r["channel"], method=t["method"],
            value_limit=_number(r["value_limit"]) if t["limit_role"] == "parcel" else None,
            period_limit=_number(r["value_limit"]) if t["limit_role"] == "period" else _number(t["period_limit"]),
            period=t["period"], limit_currency=r["value_currency"] or "USD",
            weight_limit_kg=_number(r["weight_limit_kg"]), rate_percent=_number(t["rate_percent"]),
            per_kg=_number(t["per_kg"]), per_kg_basis=t["per_kg_basis"], fee_per_parcel=_number(t["fee_per_parcel"]),
            tax_exempt_up_to=_number(t["tax_exempt_up_to"]),
            effective_from=_date(r["effective_from"]), effective_to=_date(r["effective_to"]),
            in_force=t["in_force"] == "yes", status=r["status"],
            notes="\n".join(filter(None, [t["reading"], r["notes"]])), source=r["source"],
        ))
    if unread:  # a reading of a row that changed its key (e.g. got a start date) is stale, not spare
        raise ValueError(f"customs/data/parcel_terms.csv reads rows no longer in customs_thresholds.csv: {sorted(unread)}")
    ParcelRule.objects.all().delete()
    ParcelRule.objects.bulk_create(rules)
    return {"hs codes": HsCode.objects.count(), "tax rates": TaxRate.objects.count(),
            "parcel rules": ParcelRule.objects.count()}
