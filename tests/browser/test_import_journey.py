"""A Kazakh seller imports a catalogue file with a ZIP of photos: watches the progress bar reach 100 %,
opens the error report of the rows it refused, and finds the new products on the kz pavilion
(Playwright on Debian's chromium, a real Celery worker)."""

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = ["sku", "category", "hs_code", "origin_country", "net_weight_g", "gross_weight_g", "title_en", "title_ru",
          "title_zh", "description_en", "price_kz", "image"]


@pytest.fixture
def seller_kz_company(demo_accounts, settings, tmp_path):
    """seller_kz owns a verified company admitted to the kz pavilion; files go to a scratch media
    directory; chunks of 10 rows so that the bar moves by steps."""
    from marketplace import demo

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MARKETPLACE_IMPORT_CHUNK_ROWS = 10
    return demo._company(demo_accounts["seller_kz"], "KZ", "Altyn Bal Honey & Dried Fruit LLP", ["kz"], "03210050")


def catalogue(tmp_path):
    """40 jars of steppe honey with a photo each, and two rows with mistakes (rows 42 and 43)."""
    from PIL import Image, ImageDraw

    rows, photos = [], io.BytesIO()
    with zipfile.ZipFile(photos, "w") as archive:
        for n in range(1, 41):
            image = Image.new("RGB", (320, 240), (230, 160 + n, 40))
            ImageDraw.Draw(image).ellipse([100, 40, 220, 200], fill=(170, 100 + n, 20))
            out = io.BytesIO()
            image.save(out, "JPEG")
            archive.writestr(f"jars/steppe-{n}.jpg", out.getvalue())
            rows.append([f"STEPPE-{n:02d}", "honey", "040900", "KZ", "250", "310", f"Steppe flower honey no. {n}",
                         f"Степной цветочный мёд № {n}", f"草原花蜜 {n}号", "Raw honey from the Kazakh steppe.", "45.00",
                         f"steppe-{n}.jpg"])
    rows.append(["STEPPE-BAD", "honey", "12", "KZ", "250", "310", "Bad code", "", "", "", "45.00", ""])
    rows.append(["STEPPE-NEG", "honey", "040900", "KZ", "-1", "310", "Negative", "", "", "", "45.00", ""])
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    path = tmp_path / "steppe-honey.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    zpath = tmp_path / "steppe-photos.zip"
    zpath.write_bytes(photos.getvalue())
    return path, zpath


def test_seller_imports_a_catalogue_and_finds_it_on_the_storefront(page, live_server, seller_kz_company, tmp_path,
                                                                   shoot, celery_worker):
    from marketplace.models import CatalogueImport

    path, zpath = catalogue(tmp_path)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "seller_kz")
    page.fill("input[name=password]", "karavan-demo")
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.locator("[data-testid=username]")).to_have_text("seller_kz")

    # From the seller's menu to the import page.
    page.click("[data-testid=nav-imports]")
    expect(page.locator("h1")).to_have_text("Catalogue import")
    expect(page.locator("main")).to_contain_text("No imports yet.")
    expect(page.locator("[data-testid=template-xlsx]")).to_be_visible()
    shoot("import-page")

    form = page.locator("[data-testid=import-form]")
    form.locator("input[name=file]").set_input_files(str(path))
    form.locator("input[name=images]").set_input_files(str(zpath))
    page.click("[data-testid=import-submit]")

    # The import's page: the bar moves by itself (htmx) until 100 %.
    expect(page).to_have_url(re.compile(r"/seller/imports/\d+/$"))
    bar = page.locator("[data-testid=import-progress]")
    expect(bar).to_be_visible()
    expect(page.locator("[data-testid=import-status]")).to_have_text("Done", timeout=60_000)
    expect(bar).to_have_attribute("value", "100")
    expect(page.locator("[data-testid=import-percent]")).to_contain_text("100 %")
    expect(page.locator("[data-testid=rows-done]")).to_have_text("40")
    expect(page.locator("[data-testid=rows-failed]")).to_have_text("2")
    errors = page.locator("[data-testid=import-errors] tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.first).to_contain_text("hs_code")
    shoot("import-done")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot("import-done-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    imp = CatalogueImport.objects.get()
    assert (imp.status, imp.rows_done, imp.rows_failed) == ("done", 40, 2)

    # The error report names each refused row and column.
    with page.expect_download() as download:
        page.click("[data-testid=error-report]")
    report = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert report[0] == ["row", "column", "message"]
    assert [(r[0], r[1]) for r in report[1:]] == [("42", "hs_code"), ("43", "net_weight_g")]

    # The new honeys are on the kz pavilion, with their photos.
    page.click("[data-testid=to-storefront]")
    expect(page).to_have_url(re.compile(r"/s/kz/"))
    page.goto(live_server.url + "/s/kz/?q=steppe+flower+honey")
    expect(page.locator("main")).to_contain_text(re.compile(r"Steppe flower honey no\. \d+"))
    shoot("on-the-storefront")

    # The list of imports says what happened.
    page.goto(live_server.url + "/seller/imports/")
    row = page.locator("[data-testid=imports] tbody tr").first
    expect(row).to_contain_text("steppe-honey.csv")
    expect(row).to_contain_text("Done")
    shoot("imports-list")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot("imports-list-phone")
