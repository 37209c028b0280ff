"""Every main page of every role fits a phone (390 × 844): the page is never wider than the screen,
the menu folds behind a button, the main lists read as cards (every cell on the screen), other wide
tables scroll inside their own box. On the demo data, in
Russian (the longest words of the five languages). Screenshots of each page."""

import io
import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ROLES = ["buyer_cn", "buyer_kz", "seller_kz", "seller_cn", "operator_tas", "broker", "admin"]
# Beyond the menu: the first link of each kind found on the role's pages (a detail page per area).
DETAILS = re.compile(r"^/(s/[^/]+/|p/\d+/|orders/\d+/|customs/\d+/|warehouses/[A-Z]+/[a-z-]*/?|seller/products/\d+/)$")


@pytest.fixture
def demo(transactional_db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO(), force=True)


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def cut_cells(page) -> int:
    """Cells of the lists a phone reads as cards (table.cards) that reach past the screen's edge."""
    return page.evaluate("[...document.querySelectorAll('main table.cards td')]"
                         ".filter(td => td.getBoundingClientRect().right > window.innerWidth + 1).length")


def broken_amounts(page) -> list[str]:
    """Headline figures (a wallet's balances, a dashboard's numbers) laid out on more than one line."""
    return page.evaluate("""[...document.querySelectorAll('main .figure-value, main .kpis strong')].filter(e => {
        const range = document.createRange(); range.selectNodeContents(e);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
    }).map(e => e.textContent.trim())""")


def test_every_main_page_of_every_role_fits_a_phone(page, live_server, demo, shoot):
    page.set_viewport_size(PHONE)
    too_wide = []
    for username in ROLES:
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "karavan_language", "value": "ru", "url": live_server.url}])
        page.goto(live_server.url + "/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "karavan-demo")
        page.click("[data-testid=login-form] button[type=submit]")
        expect(page.locator("html")).to_have_attribute("lang", "ru")

        # The menu is folded on a phone; the button opens it.
        menu = page.locator("#menu-main")
        expect(menu).to_be_hidden()
        page.click("[data-testid=menu-toggle]")
        expect(menu).to_be_visible()
        nav = [urlparse(a).path for a in menu.locator("a").evaluate_all("els => els.map(a => a.href)")]
        nav = [path for path in dict.fromkeys(nav) if not path.startswith("/admin/") or path == "/admin/"]
        assert nav, f"{username}: no menu links"

        pages, seen_kinds = list(nav), set()
        for path in nav:
            page.goto(live_server.url + path)
            for href in page.locator("main a").evaluate_all("els => els.map(a => a.getAttribute('href'))"):
                href = urlparse(href or "").path
                match = DETAILS.match(href)
                if match and href.split("/")[1] not in seen_kinds:
                    seen_kinds.add(href.split("/")[1])
                    pages.append(href)
        for path in dict.fromkeys(pages):
            response = page.goto(live_server.url + path)
            assert response.status == 200, f"{username} {path}: {response.status}"
            if overflow(page) > 0:
                too_wide.append(f"{username} {path}: {overflow(page)} px too wide")
                shoot(f"{username}-{path.strip('/').replace('/', '-') or 'home'}")
            if cut := cut_cells(page):
                too_wide.append(f"{username} {path}: {cut} list cells past the screen's edge")
            if broken := broken_amounts(page):
                too_wide.append(f"{username} {path}: figures broken across lines: {broken}")
        page.goto(live_server.url + "/")
        shoot(f"{username}-home")
    assert too_wide == [], "\n".join(too_wide)
