"""The seller portal on the demo data (Playwright on Debian's chromium): a Kazakh seller lands on the
dashboard, creates a product with two photos in one step and chooses the second as its cover, then
sends a consignment of three lines, found by search, with the route previewed. Screenshots of the
dashboard, the editor and the consignment form at 1366 and 390 px, in English and Russian; no page
is wider than the phone's screen."""

import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    from django.core.management import call_command

    from config.celery import app

    settings.MEDIA_ROOT = str(tmp_path / "media")
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, task_always_eager=True)
    call_command("seed_demo", stdout=io.StringIO(), force=True)
    yield
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False)


def png(tmp_path, name, color, size=(640, 480)):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).rectangle([size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4], fill=(255, 255, 255))
    path = tmp_path / name
    image.save(path, "PNG")
    return str(path)


def login(page, live_server, username, language):
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "karavan_language", "value": language, "url": live_server.url}])
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "karavan-demo")
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.locator("[data-testid=username]")).to_have_text(username)


def both_widths(page, shoot, step):
    """A screenshot at 1366 px and one at 390 px, where nothing may be wider than the screen."""
    page.set_viewport_size(DESKTOP)
    shoot(f"{step}-1366")
    page.set_viewport_size(PHONE)
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
        .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 12).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (step, wide)
    shoot(f"{step}-390")
    page.set_viewport_size(DESKTOP)


def test_seller_dashboard_product_with_two_photos_and_a_consignment_of_three_lines(page, live_server, demo, tmp_path,
                                                                                   shoot):
    from marketplace.models import Product
    from warehouses.models import Consignment, Sku

    page.set_viewport_size(DESKTOP)
    login(page, live_server, "seller_kz", "en")

    # The dashboard is where a seller lands.
    expect(page).to_have_url(re.compile(r"/seller/$"))
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("[data-testid=dash-stock] [data-testid=stock-row]").first).to_be_visible()
    both_widths(page, shoot, "dashboard-en")

    # A new product, in one step with two photos; the HS code found by the helper.
    page.goto(live_server.url + "/seller/products/new/")
    form = page.locator("[data-testid=product-form]")
    form.locator("input[name=sku_code]").fill("KZ-BUCK-250")
    form.locator("select[name=status]").select_option("active")
    form.locator("select[name=category]").select_option("honey")
    form.locator("input[name=hs_code]").press_sequentially("honey", delay=30)
    option = page.locator("[data-testid=hs-option][data-hs='040900']")
    expect(option).to_be_visible()
    option.click()
    expect(form.locator("input[name=hs_code]")).to_have_value("040900")
    form.locator("select[name=origin_country]").select_option("KZ")
    form.locator("input[name=net_weight_g]").fill("250")
    form.locator("input[name=title_en]").fill("Buckwheat honey, 250 g")
    form.locator("input[name=title_ru]").fill("Гречишный мёд, 250 г")
    form.locator("textarea[name=description_en]").fill("Dark raw honey from the East Kazakhstan steppe.")
    form.locator("textarea[name=description_ru]").fill("Тёмный сырой мёд из степей Восточного Казахстана.")
    expect(form.locator("[data-testid=currency-kz]")).to_have_text("CNY")
    form.locator("input[name=price_kz]").fill("39.90")
    form.locator("input[name=photos]").set_input_files([png(tmp_path, "jar.png", (233, 170, 50)),
                                                        png(tmp_path, "label.png", (60, 120, 200), (500, 500))])
    previews = page.locator("[data-testid=new-photos] [data-previews] li")
    expect(previews).to_have_count(2)
    previews.nth(1).locator("[data-testid=cover-pick]").check()
    expect(previews.nth(1)).to_have_class(re.compile("is-cover"))
    both_widths(page, shoot, "editor-new-en")
    page.click("[data-testid=save]")

    expect(page.locator(".flash-success")).to_have_text("Product saved with 2 photos.")
    product = Product.objects.get(sku_code="KZ-BUCK-250")
    photos = list(product.images.order_by("position"))
    assert [(p.width, p.height) for p in photos] == [(640, 480), (500, 500)]
    assert product.cover_id == photos[1].pk
    saved = page.locator("[data-testid=photos] li")
    expect(saved).to_have_count(2)
    expect(saved.nth(1)).to_have_class(re.compile("is-cover"))
    both_widths(page, shoot, "editor-saved-en")

    # A consignment of three of the seller's SKUs to Lanzhou: From is Almaty, the route goes by Khorgos.
    skus = list(Sku.objects.filter(company_id=product.company_id).exclude(pk=product.sku_id).order_by("code")[:3])
    page.goto(live_server.url + "/warehouses/consignments/new/")
    form = page.locator("[data-testid=consignment-form]")
    expect(form.locator("select[name=origin]")).to_have_value("ALA")
    expect(form.locator("select[name=warehouse]")).to_have_value("LHW")
    preview = page.locator("[data-testid=route-preview]")
    expect(preview.locator("[data-testid=route-leg]")).to_have_count(2)
    expect(preview).to_contain_text("Khorgos")
    # From Khorgos dry port to Almaty: one country, one leg (htmx preview on change).
    form.locator("select[name=warehouse]").select_option("ALA")
    form.locator("select[name=origin]").select_option("KHG")
    form.locator("select[name=border_crossing]").select_option("")
    expect(preview).to_contain_text("no border")
    expect(preview.locator("[data-testid=route-leg]")).to_have_count(1)
    form.locator("select[name=warehouse]").select_option("LHW")
    form.locator("select[name=origin]").select_option("ALA")
    expect(preview.locator("[data-testid=route-leg]")).to_have_count(2)

    rows = form.locator("tbody tr[data-testid=line]")
    expect(rows).to_have_count(3)
    # The first SKU found by search, the others typed.
    rows.nth(0).locator("input[name$='-sku']").press_sequentially(skus[0].code[-6:], delay=30)
    pick = rows.nth(0).locator(f"[data-sku-code='{skus[0].code}']")
    expect(pick).to_be_visible()
    pick.click()
    expect(rows.nth(0).locator("input[name$='-sku']")).to_have_value(skus[0].code)
    for i, sku in enumerate(skus):
        if i:
            rows.nth(i).locator("input[name$='-sku']").fill(sku.code)
        rows.nth(i).locator("input[name$='-quantity']").fill(str(10 * (i + 1)))
        rows.nth(i).locator("input[name$='-declared_value']").fill(f"{100 * (i + 1)}.00")
    # A fourth line added, then removed.
    page.click("[data-testid=add-line]")
    expect(rows).to_have_count(4)
    rows.nth(3).locator("input[name$='-sku']").fill(skus[0].code)
    rows.nth(3).locator("[data-testid=remove-line]").click()
    expect(rows.nth(3)).to_be_hidden()
    both_widths(page, shoot, "consignment-en")
    page.click("[data-testid=submit]")

    expect(page).to_have_url(re.compile(r"/warehouses/consignments/\d+/$"))
    consignment = Consignment.objects.filter(company_id=product.company_id, origin_id="ALA", warehouse_id="LHW").latest("id")
    # Submitted: the (eager) transit simulator may already have moved it on.
    assert consignment.status not in ("draft", "cancelled"), consignment.status
    assert [(ln.sku_id, ln.expected_qty) for ln in consignment.lines.order_by("id")] == [
        (skus[0].pk, 10), (skus[1].pk, 20), (skus[2].pk, 30)]
    assert consignment.border_crossing_id == "BC-KHORGOS-ALTYNKOL"

    # The same pages in Russian.
    login(page, live_server, "seller_kz", "ru")
    expect(page.locator("h1")).to_have_text("Панель продавца")
    both_widths(page, shoot, "dashboard-ru")
    page.goto(live_server.url + "/seller/products/new/")
    both_widths(page, shoot, "editor-new-ru")
    page.goto(live_server.url + f"/seller/products/{product.pk}/")
    both_widths(page, shoot, "editor-saved-ru")
    page.goto(live_server.url + "/warehouses/consignments/new/")
    expect(page.locator("[data-testid=route-preview]")).to_contain_text("Хоргос")
    both_widths(page, shoot, "consignment-ru")
