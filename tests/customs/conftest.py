from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from core.money import Money
from customs.interface import QuoteLine


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request in another language leaves that language active in the thread (LocaleMiddleware
    does not reset it): texts computed later in the run (warnings with translated labels) would
    follow the last request's reader."""
    yield
    translation.deactivate()


@pytest.fixture
def tariff(reference):
    """Reference data loaded (currencies, countries, places, HS codes, taxes, parcel rules)."""
    return reference


def line(hs, price, currency, qty=1, kg="0.500", origin=None, description="item"):
    return QuoteLine(hs_code=hs, description=description, quantity=qty, unit_price=Money.of(price, currency),
                     weight_kg=Decimal(kg), origin_country=origin)


def d(text):
    return date.fromisoformat(text)
