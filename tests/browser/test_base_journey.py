"""A visitor switches languages, a demo buyer logs in and out (Playwright on Debian's chromium)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_switch_language_log_in_and_out(page, live_server, demo_accounts, shoot):
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header.topbar")).to_contain_text("Storefronts")
    shoot("home-en")

    page.select_option("#language-switcher select", "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("header.topbar")).to_contain_text("Витрины")
    shoot("home-ru")

    page.select_option("#language-switcher select", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("header.topbar")).to_contain_text("店铺")
    shoot("home-zh")

    page.click("[data-testid=login-link]")
    page.fill("input[name=username]", "buyer_cn")
    page.fill("input[name=password]", "karavan-demo")
    shoot("login-form")
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.locator("[data-testid=username]")).to_have_text("buyer_cn")
    shoot("logged-in")

    page.click("[data-testid=logout]")
    expect(page.locator("[data-testid=login-link]")).to_be_visible()
    expect(page.locator("[data-testid=username]")).to_have_count(0)
    shoot("logged-out")


def test_api_docs_render_without_internet(page, live_server, shoot):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Karavan API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    shoot("api-docs")
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requested), requested
