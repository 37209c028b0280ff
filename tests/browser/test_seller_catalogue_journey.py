"""A Kazakh seller, in Russian, lists a honey on the kz pavilion, adds a photo, and is told clearly when a
file is not a photo or an HS code is wrong (Playwright on Debian's chromium)."""

import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLES = {"en": "Buckwheat honey, 250 g", "ru": "Гречишный мёд, 250 г", "zh": "荞麦蜂蜜 250克"}
DESCRIPTIONS = {"en": "Dark raw honey from the East Kazakhstan steppe.",
                "ru": "Тёмный сырой мёд из степей Восточного Казахстана.",
                "zh": "来自东哈萨克斯坦草原的深色生蜂蜜。"}


@pytest.fixture
def seller_kz_company(demo_accounts, settings, tmp_path):
    """seller_kz owns a verified company admitted to the kz pavilion; photos go to a scratch media
    directory and their thumbnails are made inline (no worker)."""
    from config.celery import app
    from marketplace import demo

    settings.MEDIA_ROOT = str(tmp_path / "media")
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, task_always_eager=True)
    company = demo._company(demo_accounts["seller_kz"], "KZ", "Altyn Bal Honey & Dried Fruit LLP", ["kz"], "03210050")
    yield company
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False)


def png_file(tmp_path, size=(640, 480)):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (233, 170, 50))
    ImageDraw.Draw(image).ellipse([120, 60, 520, 420], fill=(180, 110, 20))
    out = io.BytesIO()
    image.save(out, "PNG")
    path = tmp_path / "honey-jar.png"
    path.write_bytes(out.getvalue())
    return path


def test_seller_lists_a_product_with_a_photo_and_sees_clear_errors(page, live_server, seller_kz_company, tmp_path, shoot):
    from marketplace.models import Product

    # Log in, in Russian (the seller's language).
    page.goto(live_server.url + "/accounts/login/?next=/seller/products/")
    page.select_option("#language-switcher select", "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.fill("input[name=username]", "seller_kz")
    page.fill("input[name=password]", "karavan-demo")
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.locator("[data-testid=username]")).to_have_text("seller_kz")
    expect(page.locator("h1")).to_have_text("Мои товары")
    expect(page.locator("main")).to_contain_text("Товаров пока нет.")
    shoot("my-products-empty")

    # A new product: facts, texts in three languages, a price on the kz pavilion.
    page.click("[data-testid=new-product]")
    expect(page.locator("h1")).to_have_text("Новый товар")
    form = page.locator("[data-testid=product-form]")
    form.locator("input[name=sku_code]").fill("AB-BUCK-250")
    form.locator("select[name=status]").select_option("active")
    form.locator("select[name=category]").select_option("honey")
    form.locator("input[name=hs_code]").fill("040900")
    form.locator("select[name=origin_country]").select_option("KZ")
    form.locator("input[name=net_weight_g]").fill("250")
    form.locator("input[name=gross_weight_g]").fill("310")
    for language in ("en", "ru", "zh"):
        form.locator(f"input[name=title_{language}]").fill(TITLES[language])
        form.locator(f"textarea[name=description_{language}]").fill(DESCRIPTIONS[language])
    expect(form.locator("label[for=id_price_kz]")).to_contain_text("CNY")
    form.locator("input[name=price_kz]").fill("39.90")
    form.locator("textarea[name=attributes]").fill("Урожай: 2024")
    shoot("new-product-form")
    page.click("[data-testid=save]")

    expect(page.locator(".flash-success")).to_have_text("Товар сохранён. Добавьте фото ниже.")
    expect(page).to_have_url(re.compile(r"/seller/products/\d+/$"))
    expect(page.locator("h1")).to_have_text("Редактировать товар")
    product = Product.objects.get(sku_code="AB-BUCK-250")
    assert product.hs_code == "040900" and product.status == "active"
    expect(page.locator("input[name=title_zh]")).to_have_value(TITLES["zh"])
    expect(page.locator("input[name=price_kz]")).to_have_value(re.compile(r"^39[.,]90$"))
    expect(page.locator("[data-testid=photos]")).to_have_count(0)
    shoot("saved")

    # A photo: a PNG drawn with Pillow.
    photo_form = page.locator("[data-testid=photo-form]")
    photo_form.locator("input[name=image]").set_input_files(str(png_file(tmp_path)))
    photo_form.locator("input[name=alt]").fill("Банка мёда")
    photo_form.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_have_text("Фото добавлено.")
    photos = page.locator("[data-testid=photos] figure")
    expect(photos).to_have_count(1)
    expect(photos.first).to_contain_text("640×480")
    expect(photos.first).to_contain_text("обложка")
    expect(photos.first.locator("img")).to_have_attribute("alt", "Банка мёда")
    assert photos.first.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    shoot("photo-added")

    # Listed on "My products": thumbnail, Russian title, status, price in yuan on kz.
    page.locator("nav.crumbs a", has_text="Мои товары").click()
    row = page.locator("[data-testid=seller-products] tbody tr", has_text="AB-BUCK-250")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(TITLES["ru"])
    expect(row).to_contain_text("В продаже")
    expect(row).to_contain_text(re.compile(r"kz: 39,90\s¥"))
    expect(row.locator("img.row-thumb")).to_be_visible()
    shoot("listed")

    # Buyers see it on the pavilion with its photo.
    page.goto(live_server.url + f"/p/{product.pk}/?storefront=kz")
    expect(page.locator("[data-testid=product-title]")).to_have_text(TITLES["ru"])
    expect(page.locator("[data-testid=gallery] #main-photo")).to_be_visible()
    expect(page.locator(".buybox [data-testid=price]")).to_have_text(re.compile(r"^39,90\s¥$"))
    shoot("buyer-view")

    # Not a photo: a text file is refused with a clear message, and no photo is added.
    page.goto(live_server.url + f"/seller/products/{product.pk}/")
    notes = tmp_path / "invoice.png"
    notes.write_text("This is not a picture, just some notes about the harvest.\n")
    photo_form.locator("input[name=image]").set_input_files(str(notes))
    photo_form.locator("button[type=submit]").click()
    expect(page.locator(".flash-error")).to_have_text("Этот файл — не фото в формате JPEG, PNG или WebP.")
    expect(page.locator(".flash-success")).to_have_count(0)
    expect(photos).to_have_count(1)
    shoot("not-a-photo")

    # An HS code of five digits: the form says what an HS code looks like, and nothing changes.
    hs = page.locator("input[name=hs_code]")
    hs.fill("04090")
    page.click("[data-testid=save]")
    hs_error = page.locator("[data-testid=product-form] small.error")
    # The message names what an HS code is and gives an example (its exact wording may evolve).
    expect(hs_error).to_have_count(1)
    expect(hs_error).to_have_text(re.compile(r"^Код ТН ВЭД .*6.*10 цифр.*040900"))
    expect(hs).to_have_value("04090")
    expect(page.locator(".flash-success")).to_have_count(0)
    shoot("hs-too-short")

    # Six digits in a real chapter (milk), but a heading customs has no rate for.
    hs.fill("040110")
    page.click("[data-testid=save]")
    expect(hs_error).to_have_text(re.compile(r"040110.*таможенном справочнике"))
    expect(hs).to_have_value("040110")
    shoot("hs-unknown")
    product.refresh_from_db()
    assert product.hs_code == "040900"
