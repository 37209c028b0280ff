"""An operator of the Tashkent warehouse works the stock console (Playwright on Debian's chromium)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tas_stock(demo_accounts):
    """Demo users plus stock booked through the warehouses services: three SKUs in TAS, one in ALA."""
    from core.access import SYSTEM_ACTOR
    from core.models import Company, CompanyMember
    from warehouses import services
    from warehouses.models import Warehouse

    Warehouse.objects.get(code="TAS").operators.add(demo_accounts["operator_tas"])
    company = Company.objects.create(name="Shenzhen Bright Electronics", country_id="CN", tax_id="91440300MA5BROWS01",
                                     verification=Company.Verification.VERIFIED)
    CompanyMember.objects.create(company=company, user=demo_accounts["seller_cn"])
    for code, name, warehouse, qty in [("PH-X1-128", "Smartphone X1 128 GB", "TAS", 40),
                                       ("EAR-BT5", "Bluetooth earbuds", "TAS", 25),
                                       ("CBL-C2", "USB-C cable 2 m", "TAS", 3),
                                       ("KB-MEC", "Mechanical keyboard", "ALA", 12)]:
        sku = services.sku_upsert(company_id=company.pk, code=code, name=name, hs_code="851713", origin_country="CN",
                                  weight_g=200, actor=SYSTEM_ACTOR)
        services.stock_receive(warehouse=warehouse, sku_id=sku.pk, quantity=qty, bond_status="bonded",
                               reference="CSG-SEED", actor=SYSTEM_ACTOR)


def test_operator_filters_stock_reads_history_and_adjusts(page, live_server, tas_stock, shoot):
    page.goto(live_server.url + "/accounts/login/?next=/warehouses/")
    page.fill("input[name=username]", "operator_tas")
    page.fill("input[name=password]", "karavan-demo")
    page.click("[data-testid=login-form] button[type=submit]")

    table = page.locator("[data-testid=stock-table]")
    expect(table).to_contain_text("PH-X1-128")
    expect(table).to_contain_text("CBL-C2")
    expect(table).not_to_contain_text("KB-MEC")  # Almaty's stock is not this operator's
    shoot("tas-stock")

    page.fill("form.filters input[name=q]", "EAR")
    page.click("form.filters button[type=submit]")
    expect(table).to_contain_text("EAR-BT5")
    expect(table).not_to_contain_text("PH-X1-128")
    shoot("filtered")

    page.click("[data-testid=stock-table] a[href*='/movements/?sku=EAR-BT5']")
    movements = page.locator("[data-testid=movements-table]")
    expect(movements).to_contain_text("EAR-BT5")
    expect(movements).to_contain_text("CSG-SEED")
    shoot("history")

    page.go_back()
    page.click("[data-testid=stock-table] a[href*='/adjust/']")
    page.fill("input[name=quantity]", "-2")
    page.select_option("select[name=reason]", "damaged")
    page.fill("textarea[name=note]", "two boxes wet")
    shoot("adjust-form")
    page.click("article.narrow-form button[type=submit]")
    expect(table).to_be_visible()

    page.goto(live_server.url + "/warehouses/TAS/movements/?sku=EAR-BT5")
    first = movements.locator("tbody tr").first
    expect(first).to_contain_text("two boxes wet")
    expect(first).to_contain_text("-2")
    shoot("adjusted")
