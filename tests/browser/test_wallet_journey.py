"""A buyer in Urumqi, in Chinese, tops up the CNY wallet through the simulator and converts yuan into
tenge (Playwright on Debian's chromium)."""

import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def funded_buyer_cn(demo_accounts):
    """The demo wallets: buyer_cn holds 50,000 CNY, booked through the simulator like a real top-up."""
    from payments import demo

    demo.seed(io.StringIO(), users=demo_accounts)
    return demo_accounts["buyer_cn"]


def test_buyer_tops_up_and_converts(page, live_server, funded_buyer_cn, shoot):
    from core.money import Money
    from payments import services

    page.goto(live_server.url + "/accounts/login/?next=/wallet/")
    page.select_option("#language-switcher select", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.fill("input[name=username]", "buyer_cn")
    page.fill("input[name=password]", "karavan-demo")
    page.click("[data-testid=login-form] button[type=submit]")

    # The wallet opens on the currency the buyer holds.
    expect(page).to_have_url(re.compile(r"/wallet/CNY/$"))
    expect(page.locator("h1")).to_have_text("钱包")
    expect(page.locator("[data-testid=tab-CNY]")).to_have_attribute("aria-current", "page")
    expect(page.locator("[data-testid=balance]")).to_have_text("¥50,000.00")
    expect(page.locator("[data-testid=available]")).to_have_text("¥50,000.00")
    statement = page.locator("[data-testid=statement] tbody tr")
    expect(statement).to_have_count(1)
    expect(statement.first).to_contain_text("充值")
    shoot("wallet")

    # Top up 250.50 through the simulator: a signed webhook credits the wallet.
    top_up = page.locator("[data-testid=top-up-form]")
    top_up.locator("input[name=amount]").fill("250.50")
    top_up.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_have_text("钱包已充值 ¥250.50。")
    expect(page.locator("[data-testid=balance]")).to_have_text("¥50,250.50")
    expect(statement).to_have_count(2)
    newest = statement.first
    expect(newest).to_contain_text("充值")
    expect(newest.locator("td.credit")).to_have_text("¥250.50")
    expect(newest.locator("td").last).to_have_text("¥50,250.50")
    shoot("topped-up")

    # Convert 1,000 CNY into tenge: the live quote shows what will arrive.
    expected = services.conversion_quote(amount=Money.of("1000.00", "CNY"), to_currency="KZT")
    receive = expected.receive.format("zh-hans")
    convert = page.locator("[data-testid=convert-form]")
    expect(convert.locator("#quote")).not_to_contain_text("您将收到")
    convert.locator("select[name=to_currency]").select_option("KZT")
    convert.locator("input[name=amount]").fill("1000")
    quote = convert.locator("[data-testid=quote]")
    expect(quote).to_contain_text("您将收到")
    expect(convert.locator("[data-testid=quote-receive]")).to_have_text(receive)
    expect(quote).to_contain_text("1 CNY = ")
    expect(quote).to_contain_text(" KZT")
    expect(quote).to_contain_text(expected.fee.format("zh-hans"))  # the spread, in yuan
    shoot("quote")

    # More than the wallet holds: refused on the form, nothing booked.
    convert.locator("input[name=amount]").fill("900000")
    expect(convert.locator("[data-testid=quote-receive]")).not_to_have_text(receive)
    convert.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=convert-form] small.error")).to_have_text("CNY 钱包余额不足。")
    expect(page.locator("[data-testid=balance]")).to_have_text("¥50,250.50")
    shoot("insufficient")

    convert.locator("select[name=to_currency]").select_option("KZT")
    convert.locator("input[name=amount]").fill("1000")
    expect(convert.locator("[data-testid=quote-receive]")).to_have_text(receive)
    convert.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_have_text(f"已将 ¥1,000.00 兑换为 {receive}。")
    expect(page.locator("[data-testid=balance]")).to_have_text("¥49,250.50")
    expect(statement).to_have_count(3)
    expect(statement.first).to_contain_text("货币兑换")
    expect(statement.first.locator("td.debit")).to_have_text(re.compile(r"^-¥1,000\.00$"))
    expect(page.locator("[data-testid=tab-CNY] small")).to_have_text("¥49,250.50")
    expect(page.locator("[data-testid=tab-KZT] small")).to_have_text(receive)
    shoot("converted-cny")

    # The tenge side of the conversion.
    page.click("[data-testid=tab-KZT]")
    expect(page).to_have_url(re.compile(r"/wallet/KZT/$"))
    expect(page.locator("[data-testid=balance]")).to_have_text(receive)
    expect(statement).to_have_count(1)
    expect(statement.first).to_contain_text("货币兑换")
    expect(statement.first.locator("td.credit")).to_have_text(receive)
    shoot("kzt-wallet")
