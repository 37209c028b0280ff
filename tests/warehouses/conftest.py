"""Warehouses fixtures: companies with SKUs, operators of TAS and ALA, stock booked in (sellers and
their companies: make_seller and make_company in tests/conftest.py)."""

import itertools

import factory
import pytest

from core.access import SYSTEM_ACTOR
from core.models import Company, CompanyMember
from warehouses import services
from warehouses.models import Sku, Warehouse

_tax = itertools.count(100000001)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    country_id = "CN"
    tax_id = factory.LazyFunction(lambda: str(next(_tax)))
    verification = Company.Verification.VERIFIED


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Phone case model {n}")
    hs_code = "392690"
    weight_g = 120
    low_stock_threshold = 5


@pytest.fixture
def wh(reference):
    """The warehouses of the reference data, by code."""
    return {w.code: w for w in Warehouse.objects.all()}


@pytest.fixture
def seller_company(make_company):
    return make_company("CN", name="Shenzhen Bright Electronics")


@pytest.fixture
def seller(make_seller, seller_company):
    return make_seller("seller_cn", company=seller_company)


@pytest.fixture
def other_seller(make_seller):
    return make_seller("seller_kz", "KZ", name="Almaty Honey LLP", role=CompanyMember.Role.MANAGER)


@pytest.fixture
def operator_tas(make_user, wh):
    user = make_user("operator_tas", "operator")
    wh["TAS"].operators.add(user)
    return user


@pytest.fixture
def operator_ala(make_user, wh):
    user = make_user("operator_ala", "operator")
    wh["ALA"].operators.add(user)
    return user


@pytest.fixture
def sku(seller_company):
    return SkuFactory(company=seller_company, code="PHONE-X1", name="Smartphone X1", hs_code="851713")


def book(warehouse: str, sku: Sku, quantity: int, bond_status: str = "bonded", reference: str = "seed"):
    """Book units in as the system would on receipt of a consignment."""
    return services.stock_receive(warehouse=warehouse, sku_id=sku.pk, quantity=quantity, bond_status=bond_status,
                                  reference=reference, actor=SYSTEM_ACTOR)


def assert_ledger_consistent():
    from warehouses.selectors import stock_drift

    drifts = stock_drift()
    assert drifts == [], drifts
