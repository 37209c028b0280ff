"""The pick list: one query, grouped by bin then SKU, the same on PostgreSQL and SQLite (no ARRAY_AGG)."""

import pytest

from core.access import SYSTEM_ACTOR
from warehouses import selectors, services
from warehouses.models import StockLevel

from .conftest import SkuFactory, book

pytestmark = pytest.mark.django_db


def order(reference, lines, *, requested=True):
    services.stock_reserve(lines=lines, storefront_warehouses=["TAS"], buyer_country="KZ", reference=reference,
                           actor=SYSTEM_ACTOR)
    if requested:
        services.fulfilment_request(reference=reference, actor=SYSTEM_ACTOR)


def test_lines_of_several_orders_are_summed_per_bin_and_sku(sku, seller_company, wh, django_assert_num_queries):
    case = SkuFactory(company=seller_company, code="CASE-01", name="Phone case")
    book("TAS", sku, 20)
    book("TAS", case, 20)
    StockLevel.objects.filter(sku=sku).update(location="B-02")
    StockLevel.objects.filter(sku=case).update(location="A-01")
    order("ORD-3", [(sku.pk, 2), (case.pk, 1)])
    order("ORD-1", [(sku.pk, 3)])
    order("ORD-2", [(sku.pk, 4)], requested=False)  # not asked to ship yet: not on the list

    with django_assert_num_queries(1):
        picks = selectors.pick_list(warehouse=wh["TAS"])

    assert [(p.location, p.sku_code, p.sku_name, p.bond_status, p.quantity, p.references) for p in picks] == [
        ("A-01", "CASE-01", "Phone case", "bonded", 1, ["ORD-3"]),
        ("B-02", "PHONE-X1", "Smartphone X1", "bonded", 5, ["ORD-1", "ORD-3"]),
    ]
    assert selectors.pick_list(warehouse=wh["ALA"]) == []
