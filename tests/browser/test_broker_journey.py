"""A customs broker, in Russian, works the declarations queue: filters, reads a declaration, sends it to
inspection and rejects it with a reason; a buyer cannot open the queue (Playwright on Debian's chromium)."""

import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Инвойс не представлен в течение 10 дней"


@pytest.fixture
def declarations(demo_accounts, settings, tmp_path):
    """The six demo declarations (draft, documents requested, inspection, assessed, released, rejected),
    driven through the customs services and the gateway simulator."""
    from customs import demo
    from customs.models import Declaration

    settings.MEDIA_ROOT = str(tmp_path / "media")
    demo.seed(io.StringIO(), users=demo_accounts)
    return {d.reference: d for d in Declaration.objects.all()}


def log_in(page, live_server, username, next_path):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "karavan-demo")
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.locator("[data-testid=username]")).to_have_text(username)


def test_broker_filters_reads_and_acts_and_a_buyer_is_kept_out(page, live_server, declarations, shoot):
    from core.money import Money

    yellow = declarations["DEMO-TAS-REL-001"]
    assert yellow.status == "yellow"
    total = len(declarations)

    page.goto(live_server.url + "/accounts/login/")
    page.select_option("#language-switcher select", "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    log_in(page, live_server, "broker", "/customs/")

    # The queue: every declaration, counts per status.
    expect(page.locator("h1")).to_have_text("Таможенные декларации")
    expect(page.locator("[data-testid=nav-customs]")).to_be_visible()
    rows = page.locator("[data-testid=declarations] tbody tr")
    expect(rows).to_have_count(total)
    tabs = page.locator("[data-testid=status-tabs]")
    expect(tabs.locator("a", has_text="Запрошены документы")).to_contain_text("1")
    shoot("queue")

    # Filter: documents requested.
    filters = page.locator("[data-testid=queue-filters]")
    filters.locator("select[name=status]").select_option("yellow")
    filters.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"status=yellow"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("DEMO-TAS-REL-001")
    expect(rows.first.locator("td").nth(4)).to_have_text("Запрошены документы")  # status
    expect(rows.first.locator("td").nth(5)).to_have_text("Жёлтый")  # channel
    expect(tabs.locator("a.active")).to_contain_text("Запрошены документы")
    shoot("filtered-yellow")

    # Another status: released ones only.
    filters.locator("select[name=status]").select_option("released")
    filters.locator("button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("DEMO-ALA-IMP-007")
    expect(page.locator("[data-testid=declarations]")).not_to_contain_text("DEMO-TAS-REL-001")
    filters.locator("select[name=status]").select_option("yellow")
    filters.locator("button[type=submit]").click()
    expect(rows).to_have_count(1)

    # The declaration: lines, duties, timeline, the actions its state allows.
    rows.first.locator("a", has_text="DEMO-TAS-REL-001").click()
    expect(page).to_have_url(re.compile(rf"/customs/{yellow.pk}/$"))
    expect(page.locator("h1")).to_contain_text("DEMO-TAS-REL-001")
    expect(page.locator("h1 [data-status]")).to_have_text("Запрошены документы")
    lines = page.locator("[data-testid=lines] tbody tr")
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("851713")
    expect(lines.first).to_contain_text("Smartphones X1")
    expect(lines.first).to_contain_text("200")
    duties = page.locator("[data-testid=duties]")
    expect(duties).to_contain_text("Таможенная стоимость")
    expect(duties).to_contain_text(re.compile(r"Таможенная стоимость\s*120\s000\s000\ssoʻm"))  # Russian digit groups
    expect(duties).to_contain_text("НДС" + Money(yellow.vat_minor, yellow.currency).format("ru"))
    expect(duties).to_contain_text("Итого к оплате" + Money(yellow.total_minor, yellow.currency).format("ru"))
    timeline = page.locator("[data-testid=timeline] > li")
    before = timeline.count()
    assert before >= 3  # submitted, registered, documents requested
    expect(timeline.last).to_contain_text("Запрошены документы")
    actions = page.locator("[data-testid=actions]")
    expect(actions.locator("[data-testid=action-inspect]")).to_have_text("Направить на досмотр")
    expect(actions.locator("summary", has_text="Отклонить")).to_be_visible()
    expect(actions.locator("[data-testid=action-release]")).to_have_count(0)  # not from this state
    shoot("declaration")

    # Send to physical inspection: the state and the timeline move on.
    actions.locator("[data-testid=action-inspect]").click()
    expect(page.locator(".flash-success")).to_have_text("Готово: Направить на досмотр.")
    expect(page.locator("h1 [data-status]")).to_have_text("Физический досмотр")
    expect(timeline).to_have_count(before + 1)
    expect(timeline.last).to_contain_text("Физический досмотр")
    expect(timeline.last).to_contain_text("broker")
    expect(actions.locator("[data-testid=action-inspect]")).to_have_count(0)
    expect(actions.locator("[data-testid=action-mark_inspected]")).to_be_visible()
    shoot("inspection")

    # Reject, with the reason the importer will read.
    actions.locator("summary", has_text="Отклонить").click()
    actions.locator("textarea[name=reason]").fill(REASON)
    shoot("reject-form")
    actions.locator("[data-testid=action-reject]").click()
    expect(page.locator(".flash-success")).to_have_text("Готово: Отклонить.")
    # "Rejected" reads "Отклонено" (core's catalogue) or "Отклонена" (customs'): both are right.
    expect(page.locator("h1 [data-status]")).to_have_text(re.compile(r"^Отклонен[ао]$"))
    expect(page.locator("[data-testid=rejection]")).to_have_text(f"Отклонена: {REASON}")
    expect(timeline).to_have_count(before + 2)
    expect(timeline.last).to_contain_text(re.compile(r"Отклонен[ао]"))
    expect(timeline.last).to_contain_text(REASON)
    expect(page.locator("[data-testid=actions]")).to_have_count(0)  # a rejected declaration is closed
    expect(page.locator("[data-testid=upload]")).to_have_count(0)
    shoot("rejected")

    # Back in the queue the counts follow.
    page.goto(live_server.url + "/customs/?status=yellow")
    expect(page.locator("[data-testid=declarations]")).to_contain_text("Нет деклараций по этим фильтрам.")
    expect(rows).to_have_count(1)
    shoot("queue-after")

    # A buyer: no link to the queue, and the queue and a declaration do not open.
    page.click("[data-testid=logout]")
    log_in(page, live_server, "buyer_kz", "/")
    expect(page.locator("[data-testid=nav-customs]")).to_have_count(0)
    for path in ("/customs/", f"/customs/{yellow.pk}/"):
        response = page.goto(live_server.url + path)
        assert response.status in (403, 404), f"{path} gave {response.status} to a buyer"
        expect(page.locator("[data-testid=declarations]")).to_have_count(0)
        expect(page.locator("body")).not_to_contain_text("DEMO-TAS-REL-001")
        expect(page.locator("body")).not_to_contain_text("Таможенные декларации")
    shoot("buyer-kept-out")
