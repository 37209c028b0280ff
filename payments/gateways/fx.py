"""FX rate providers: each returns how many US dollars one unit of a currency is worth, with the
source and date. ``reference`` reads reference/currencies.csv; ``url`` reads a JSON or CSV document
from an http(s) URL or a file path."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode


@dataclass(frozen=True)
class RateRow:
    currency: str
    usd_per_unit: Decimal
    as_of: date
    source: str
    status: str = ""


class FxProvider:
    name = "base"

    def fetch(self) -> list[RateRow]:
        raise NotImplementedError


def _last_url(text: str) -> str:
    urls = [part.strip() for part in text.split(";") if part.strip().startswith("http")]
    return urls[-1] if urls else text


class ReferenceFxProvider(FxProvider):
    """The rates in reference/currencies.csv, each with the bank and page it was read from."""

    name = "reference"

    def __init__(self, path: Path | None = None):
        self.path = path or Path(settings.BASE_DIR) / "reference" / "currencies.csv"

    def fetch(self) -> list[RateRow]:
        rows = []
        with open(self.path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if not row.get("usd_per_unit"):
                    continue
                # An undated rate (KGS) is taken as of the load day and keeps its "unverified" mark.
                as_of = date.fromisoformat(row["rate_date"]) if row.get("rate_date") else timezone.localdate()
                kind = row.get("rate_kind", "")
                source = f"{kind} ({_last_url(row.get('source', ''))})" if kind else _last_url(row.get("source", ""))
                status = row.get("rate_status", "") + ("" if row.get("rate_date") else ", undated")
                rows.append(RateRow(row["code"], Decimal(row["usd_per_unit"]), as_of, source, status))
        return rows


class UrlFxProvider(FxProvider):
    """JSON ``{"date": "2025-09-01", "base": "USD", "rates": {"KZT": 505.2, ...}}`` (units per USD,
    the common API shape) or CSV with ``code,usd_per_unit[,rate_date]``."""

    name = "url"
    TIMEOUT = 10

    def __init__(self, location: str):
        self.location = location

    def _read(self) -> str:
        if self.location.startswith(("http://", "https://")):
            with urllib.request.urlopen(self.location, timeout=self.TIMEOUT) as resp:  # noqa: S310 - configured URL
                return resp.read(2_000_000).decode("utf-8")
        return Path(self.location.removeprefix("file://")).read_text(encoding="utf-8")

    def fetch(self) -> list[RateRow]:
        try:
            text = self._read()
        except OSError as exc:
            raise DomainError(ErrorCode.FX_RATE_MISSING, _("Could not read FX rates from %(location)s: %(error)s")
                              % {"location": self.location, "error": exc}) from None
        try:
            return self._parse_json(text) if text.lstrip().startswith("{") else self._parse_csv(text)
        except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
            raise DomainError(ErrorCode.VALIDATION, _("FX rates at %(location)s are malformed: %(error)s")
                              % {"location": self.location, "error": exc}) from None

    def _parse_json(self, text: str) -> list[RateRow]:
        data = json.loads(text, parse_float=Decimal)
        base = data.get("base", "USD").upper()
        as_of = date.fromisoformat(data["date"])
        rates = {code.upper(): Decimal(str(v)) for code, v in data["rates"].items()}
        if base != "USD":
            # Re-base through USD: units per base -> units per USD.
            per_base_usd = rates["USD"]
            rates = {code: v / per_base_usd for code, v in rates.items()}
        rates["USD"] = Decimal(1)
        return [RateRow(code, (Decimal(1) / v), as_of, self.location) for code, v in rates.items() if v > 0]

    def _parse_csv(self, text: str) -> list[RateRow]:
        rows = []
        for row in csv.DictReader(io.StringIO(text)):
            as_of = date.fromisoformat(row["rate_date"]) if row.get("rate_date") else timezone.localdate()
            rows.append(RateRow(row["code"].upper(), Decimal(row["usd_per_unit"]), as_of, self.location))
        return rows


def get(source: str | None = None) -> FxProvider:
    source = source or settings.PAYMENTS_FX_SOURCE
    return ReferenceFxProvider() if source == "reference" else UrlFxProvider(source)
