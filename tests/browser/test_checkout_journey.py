"""buyer_cn puts Kazakh honey in the cart, checks out to China, sees the landed cost (CBEC), pays from
the CNY wallet and follows the order's timeline, in Chinese (Playwright on Debian's chromium)."""

import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kz_honey(demo_accounts, settings):
    """buyer_cn's CNY wallet (the payments demo), seller_kz on the kz pavilion and a honey with 30 jars in Lanzhou."""
    from core.access import SYSTEM_ACTOR
    from core.money import Money
    from marketplace import demo, services
    from payments import demo as payments_demo
    from warehouses.services import stock_receive


    payments_demo.seed(io.StringIO(), users=demo_accounts)
    company = demo._company(demo_accounts["seller_kz"], "KZ", "Altyn Bal Honey & Dried Fruit LLP", ["kz"], "03210050")
    product = services.product_create(
        company=company, actor=SYSTEM_ACTOR, sku_code="KZ-BUCK-500", category="honey", hs_code="040900", origin_country="KZ",
        net_weight_g=500, gross_weight_g=560, status="active", prices={"kz": Money.of("68.00", "CNY")},
        translations={"en": {"title": "Buckwheat honey", "description": "Dark buckwheat honey."},
                      "ru": {"title": "Гречишный мёд", "description": "Тёмный гречишный мёд."},
                      "zh": {"title": "荞麦蜂蜜", "description": "深色荞麦蜂蜜。"}},
    )
    stock_receive(warehouse="LHW", sku_id=product.sku_id, quantity=30, bond_status="bonded", reference="SEED",
                  actor=SYSTEM_ACTOR)
    return product


def test_buyer_cn_checks_out_kz_honey_and_pays_from_the_wallet(page, live_server, kz_honey, shoot):
    from django.utils import translation

    from orders.models import Order
    from orders.states import OrderStatus
    from payments import selectors as pay_selectors
    from payments.interface import Owner
    from tests.orders.conftest import CN_ID

    # Log in as buyer_cn and read the pages in Chinese.
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "buyer_cn")
    page.fill("input[name=password]", "karavan-demo")
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.locator("[data-testid=username]")).to_have_text("buyer_cn")
    page.goto(live_server.url + f"/p/{kz_honey.pk}/?storefront=kz")
    page.select_option("#language-switcher select", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-testid=product-title]")).to_have_text("荞麦蜂蜜")

    # Two jars into the cart.
    page.fill("[data-testid=quantity]", "2")
    shoot("product")
    page.click("[data-testid=add-to-cart]")
    expect(page).to_have_url(re.compile(r"/cart/$"))
    line = page.locator("[data-testid=cart-line]")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("荞麦蜂蜜")
    expect(page.locator("[data-testid=subtotal]")).to_contain_text("136.00")
    shoot("cart")

    # Checkout to Urumqi: the country list holds the pavilion's market only.
    page.click("a[data-testid=checkout]")
    expect(page).to_have_url(re.compile(r"/checkout/$"))
    expect(page.locator("select[name=country] option")).to_have_count(1)
    expect(page.locator("select[name=country]")).to_have_value("CN")
    page.fill("input[name=city]", "Urumqi")
    page.fill("input[name=address]", "88 Xinhua Road, Tianshan District")
    page.fill("input[name=postal_code]", "830002")
    page.fill("input[name=name]", "Li Wei")
    page.fill("input[name=phone]", "+86 138 0013 8000")
    page.fill("input[name=id_number]", CN_ID)  # China's customs match the parcel to the recipient's resident ID
    shoot("checkout")
    page.click("[data-testid=place-order]")

    # The order: placed, landed cost under the CBEC regime, time left to pay.
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get(buyer__username="buyer_cn")
    assert order.regime.startswith("cn_cbec")
    expect(page.locator("[data-testid=order-status]")).to_have_attribute("data-status", "placed")
    from customs.labels import regime_label

    with translation.override("zh-hans"):
        expect(page.locator("[data-testid=regime]")).to_contain_text(regime_label(order.regime))
    landed = page.locator("[data-testid=landed-cost]")
    expect(landed.locator("[data-testid=goods]")).to_contain_text("136.00")
    expect(landed.locator("[data-testid=vat]")).to_be_visible()
    expect(landed.locator("[data-testid=total]")).to_have_text(order.total.format("zh-hans"))
    expect(page.locator("[data-testid=breakdown-line]").first).to_be_visible()
    expect(page.locator("[data-testid=time-left]")).to_be_visible()
    expect(page.locator("[data-testid=event]")).to_have_count(1)
    shoot("order-placed")

    # Pay from the CNY wallet.
    before = pay_selectors.balance(owner=Owner.user(order.buyer), currency="CNY")
    page.click("[data-testid=pay]")
    with translation.override("zh-hans"):
        paid = str(OrderStatus.PAID.label)
    expect(page.locator("[data-testid=order-status]")).to_have_text(paid)
    expect(page.locator("[data-testid=order-status]")).to_have_attribute("data-status", "paid")
    expect(page.locator("[data-testid=pay]")).to_have_count(0)
    timeline = page.locator("[data-testid=timeline] [data-testid=event]")
    expect(timeline).to_have_count(2)
    expect(timeline.first).to_have_attribute("data-status", "paid")
    expect(timeline.first).to_contain_text(paid)
    after = pay_selectors.balance(owner=Owner.user(order.buyer), currency="CNY")
    assert before.available - after.available == order.total and after.held == order.total
    shoot("order-paid")

    # My orders: the paid order with its total.
    page.click("[data-testid=nav-orders]")
    row = page.locator("[data-testid=order-row]")
    expect(row).to_have_count(1)
    expect(row.locator("[data-testid=order-status]")).to_have_text(paid)
    expect(row).to_contain_text(order.total.format("zh-hans"))
    shoot("my-orders")
