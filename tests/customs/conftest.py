from datetime import date
from decimal import Decimal

import pytest

from core.money import Money
from customs.interface import QuoteLine


@pytest.fixture
def tariff(reference):
    """Reference data loaded (currencies, countries, places, HS codes, taxes, parcel rules)."""
    return reference


def line(hs, price, currency, qty=1, kg="0.500", origin=None, description="item"):
    return QuoteLine(hs_code=hs, description=description, quantity=qty, unit_price=Money.of(price, currency),
                     weight_kg=Decimal(kg), origin_country=origin)


def d(text):
    return date.fromisoformat(text)
