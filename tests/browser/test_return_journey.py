"""A return across three roles and three languages: buyer_cn (Chinese) asks to return a jar of
honey delivered from the Lanzhou bond, seller_kz (Russian) approves, buyer_cn ships it back,
operator_lhw (Kazakh) receives it, and the buyer sees the refund in the wallet. Desktop and phone
screenshots of each step (Playwright on Debian's chromium, a real Celery worker refunding)."""

import io

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def delivered_honey(demo_accounts):
    """A delivered order of two jars of honey of seller_kz, bought by buyer_cn (no worker: the steps
    are called as the tasks and the operator would)."""
    from core.access import SYSTEM_ACTOR
    from core.money import Money
    from marketplace import demo, services
    from orders import services as orders
    from payments import demo as payments_demo
    from tests.orders.conftest import CN_ADDRESS
    from warehouses import services as wh
    from warehouses.models import Fulfilment, Warehouse

    payments_demo.seed(io.StringIO(), users=demo_accounts)
    company = demo._company(demo_accounts["seller_kz"], "KZ", "Altyn Bal Honey & Dried Fruit LLP", ["kz"], "03210050")
    product = services.product_create(
        company=company, actor=SYSTEM_ACTOR, sku_code="KZ-ACACIA-500", category="honey", hs_code="040900",
        origin_country="KZ", net_weight_g=500, gross_weight_g=560, status="active", prices={"kz": Money.of("88.00", "CNY")},
        translations={"en": {"title": "Acacia honey", "description": "Light acacia honey."},
                      "ru": {"title": "Акациевый мёд", "description": "Светлый мёд."},
                      "zh": {"title": "槐花蜂蜜", "description": "浅色槐花蜜。"}})
    wh.stock_receive(warehouse="LHW", sku_id=product.sku_id, quantity=10, bond_status="bonded", reference="SEED",
                     actor=SYSTEM_ACTOR)
    Warehouse.objects.get(code="LHW").operators.add(demo_accounts["operator_tas"])  # the demo's operator, at Lanzhou
    buyer = demo_accounts["buyer_cn"]
    order = orders.order_place(buyer=buyer, storefront="kz", lines=[{"product": product.pk, "quantity": 2}],
                               ship_to=dict(CN_ADDRESS))
    orders.order_pay(order=order, actor=buyer)
    orders.order_declare(order_id=order.pk)
    from customs import services as customs
    from customs.models import Declaration

    declaration = Declaration.objects.get(reference=order.reference)
    # Customs, as the simulator's tasks would: registered, green, assessed, paid from escrow, released.
    customs.gateway_register(declaration_id=declaration.pk)
    customs.gateway_poll(declaration_id=declaration.pk)
    customs.declaration_pay(declaration_id=declaration.pk)
    customs.gateway_poll(declaration_id=declaration.pk)
    orders.order_customs_changed(reference=order.reference, status="released")
    fulfilment = Fulfilment.objects.get(reference=order.reference)
    wh.fulfilment_pick(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    wh.parcel_pack(fulfilment=fulfilment, parcels=[{"weight_g": 1200, "length_mm": 200, "width_mm": 150, "height_mm": 100}],
                   actor=SYSTEM_ACTOR)
    wh.fulfilment_ship(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    orders.order_fulfilment_changed(reference=order.reference, warehouse="LHW", status="shipped")
    orders.order_advance(order=order, to="in_transit", actor=SYSTEM_ACTOR)
    orders.order_deliver(order=order, actor=SYSTEM_ACTOR)
    return order


def login(page, live_server, username, language):
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "karavan_language", "value": language, "url": live_server.url}])
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "karavan-demo")
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.locator("[data-testid=username]")).to_have_text(username)


def both_widths(page, shoot, step):
    shoot(step)
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), step
    shoot(f"{step}-phone")
    page.set_viewport_size(size)


def test_a_return_across_three_roles_in_three_languages(page, live_server, delivered_honey, celery_worker, shoot):
    from orders.models import Order, Return
    from payments import selectors as pay_selectors
    from payments.interface import Owner

    order = Order.objects.get(pk=delivered_honey.pk)
    assert order.status == "delivered"
    buyer = order.buyer
    before = pay_selectors.balance(owner=Owner.user(buyer), currency="CNY").available

    # The buyer, in Chinese: one jar back, it arrived cracked.
    login(page, live_server, "buyer_cn", "zh-hans")
    page.goto(live_server.url + f"/orders/{order.pk}/")
    page.click("[data-testid=return-items]")
    line = order.lines.get()
    page.fill(f"[data-testid=return-qty-{line.pk}]", "1")
    page.select_option("[data-testid=return-reason]", "defective")
    both_widths(page, shoot, "buyer-return-form")
    page.click("[data-testid=return-submit]")
    expect(page.locator("[data-testid=return]")).to_have_attribute("data-status", "requested")
    ret = Return.objects.get()
    both_widths(page, shoot, "buyer-return-requested")

    # The seller, in Russian, approves from the returns page (the count is in the menu).
    login(page, live_server, "seller_kz", "ru")
    expect(page.locator("[data-testid=nav-returns]")).to_contain_text("1")
    page.click("[data-testid=nav-returns]")
    expect(page.locator("h1")).to_have_text("Возвраты")
    both_widths(page, shoot, "seller-returns")
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=return]")).to_have_attribute("data-status", "approved")

    # The buyer sends it back with a tracking number.
    login(page, live_server, "buyer_cn", "zh-hans")
    page.goto(live_server.url + f"/orders/{order.pk}/")
    page.fill("[data-testid=return-tracking]", "SF1234567890")
    page.click("[data-testid=return-ship]")
    expect(page.locator("[data-testid=return]")).to_have_attribute("data-status", "in_transit")

    # The operator, in Kazakh, receives it: back on the shelf.
    login(page, live_server, "operator_tas", "kk")
    page.goto(live_server.url + "/operator/returns/")
    expect(page.locator("[data-testid=return]").first).to_contain_text("SF1234567890")
    both_widths(page, shoot, "operator-receive")
    page.click("[data-testid=receive]")

    # The buyer sees the refund on the order and in the wallet.
    login(page, live_server, "buyer_cn", "zh-hans")
    page.goto(live_server.url + f"/orders/{order.pk}/")
    for _ in range(40):
        if Return.objects.get(pk=ret.pk).status == "refunded":
            break
        page.wait_for_timeout(250)
    page.reload()
    refund = Return.objects.get(pk=ret.pk)
    assert refund.status == "refunded" and refund.refund_minor > 0
    expect(page.locator("[data-testid=return-refund]")).to_have_text(order.money(refund.refund_minor).format("zh-hans"))
    after = pay_selectors.balance(owner=Owner.user(buyer), currency="CNY").available
    assert after - before == order.money(refund.refund_minor)
    both_widths(page, shoot, "buyer-refunded")
    page.goto(live_server.url + "/wallet/CNY/")
    expect(page.locator("[data-testid=available]")).to_have_text(after.format("zh-hans"))
    both_widths(page, shoot, "buyer-wallet")
