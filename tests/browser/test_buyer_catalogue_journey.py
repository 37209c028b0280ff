"""A visitor browses the Kazakhstan pavilion in three languages; a buyer in Almaty sees prices in tenge
(Playwright on Debian's chromium)."""

import io
import random
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# sku, category, hs, price CNY, stock in LHW (None: awaiting stock), photos, (en, ru, zh), (description en, ru, zh)
GOODS = [
    ("KZ-BUCK-500", "honey", "040900", "68.00", 40, 2, ("Buckwheat honey", "Гречишный мёд", "荞麦蜂蜜"),
     ("Dark buckwheat honey from the East Kazakhstan steppe.", "Тёмный гречишный мёд из степей Восточного Казахстана.",
      "来自东哈萨克斯坦草原的深色荞麦蜂蜜。")),
    ("KZ-SAIN-500", "honey", "040900", "72.00", 12, 1, ("Sainfoin honey", "Эспарцетовый мёд", "红豆草蜂蜜"),
     ("Light, delicate honey.", "Светлый нежный мёд.", "色浅味柔。")),
    ("KZ-WILD-1KG", "honey", "040900", "120.00", None, 1,
     ("Mountain wildflower honey", "Горный разнотравный мёд", "高山百花蜂蜜"),
     ("Collected in the Zailiysky Alatau foothills.", "Собран в предгорьях Заилийского Алатау.", "采自外伊犁阿拉套山麓。")),
    ("KZ-APRI-500", "dried-fruit-nuts", "081310", "45.00", 30, 1, ("Dried apricots", "Курага", "杏干"),
     ("Sun-dried apricots from Turkestan orchards.", "Курага из садов Туркестана.", "突厥斯坦果园日晒杏干。")),
]


@pytest.fixture
def kz_pavilion(demo_accounts, settings, tmp_path):
    """Demo users and their wallets (buyer_kz holds tenge), the seller_kz company admitted to the kz
    pavilion and four products on it (photos, stock in Lanzhou), made through the apps' services."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.access import SYSTEM_ACTOR
    from core.money import Money
    from marketplace import demo, services
    from payments import demo as payments_demo
    from warehouses.services import stock_receive

    settings.MEDIA_ROOT = str(tmp_path / "media")
    payments_demo.seed(io.StringIO(), users=demo_accounts)
    company = demo._company(demo_accounts["seller_kz"], "KZ", "Altyn Bal Honey & Dried Fruit LLP", ["kz"], "03210050")
    rng = random.Random(7)
    products = {}
    for sku, category, hs, price, stock, photos, titles, descriptions in GOODS:
        product = services.product_create(
            company=company, actor=SYSTEM_ACTOR, sku_code=sku, category=category, hs_code=hs, origin_country="KZ",
            net_weight_g=500, gross_weight_g=560, status="active", prices={"kz": Money.of(price, "CNY")},
            translations={lang: {"title": t, "description": d} for lang, t, d in zip(("en", "ru", "zh"), titles,
                                                                                      descriptions, strict=True)},
        )
        for n in range(photos):
            image = services.product_image_add(
                product=product, actor=SYSTEM_ACTOR, alt=f"{titles[0]} {n + 1}",
                upload=SimpleUploadedFile("p.jpg", demo.photo(category, f"{titles[0]} {n}", rng), content_type="image/jpeg"))
            services.image_thumbnails_make(image_id=image.pk)
        if stock:
            stock_receive(warehouse="LHW", sku_id=product.sku_id, quantity=stock, bond_status="bonded",
                          reference=f"SEED-{sku}", actor=SYSTEM_ACTOR)
        products[sku] = product
    return products


def card_titles(page):
    return page.locator("[data-testid=product-grid] [data-testid=product-card] a.title")


def search(page, words):
    page.fill("[data-testid=search]", words)
    page.click("form.searchbar button[type=submit]")


def test_visitor_browses_the_kz_pavilion_and_a_buyer_sees_tenge(page, live_server, kz_pavilion, shoot):
    from core.money import Money
    from marketplace.selectors import fx_rate

    # Home: the five national pavilions and the two China-goods storefronts.
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    pavilions = page.locator("[data-testid=pavilions] > article")
    expect(pavilions).to_have_count(5)
    expect(page.locator("[data-testid=china-goods] > article")).to_have_count(2)
    expect(page.locator("[data-testid=storefront-cn-kz]")).to_contain_text("China goods in Kazakhstan")
    expect(page.locator("[data-testid=storefront-cn-uz]")).to_contain_text("China goods in Uzbekistan")
    expect(page.locator("[data-testid=storefront-cn-kz]")).to_contain_text("No products on this storefront yet.")
    kz_row = page.locator("[data-testid=storefront-kz]")
    expect(kz_row).to_contain_text("Kazakhstan pavilion")
    expect(kz_row).to_contain_text("CNY")
    expect(kz_row.locator(".mini-card")).to_have_count(4)
    expect(kz_row.locator(".mini-card", has_text="Buckwheat honey")).to_contain_text("¥68.00")
    shoot("home")

    # The kz pavilion: every product, prices in yuan.
    kz_row.locator("a.enter").click()
    expect(page).to_have_url(re.compile(r"/s/kz/$"))
    expect(page.locator(".results-head")).to_contain_text("Prices in CNY")
    expect(card_titles(page)).to_have_count(4)
    apricots = page.locator("[data-testid=product-card]", has_text="Dried apricots")
    expect(apricots.locator("[data-testid=price]")).to_have_text("¥45.00")
    expect(apricots).to_contain_text("In stock")
    expect(page.locator("[data-testid=product-card]", has_text="Mountain wildflower honey")).to_contain_text("Awaiting stock")
    expect(page.locator("[data-testid=converted]")).to_have_count(0)  # a visitor has no wallet currency
    shoot("storefront")

    # Category: honey only.
    page.locator("[data-testid=category-nav] a", has_text="Honey").click()
    expect(page).to_have_url(re.compile(r"category=honey"))
    expect(page.locator(".results-head h1")).to_contain_text("Honey")
    expect(card_titles(page)).to_have_count(3)
    expect(page.locator("[data-testid=product-grid]")).not_to_contain_text("Dried apricots")
    shoot("category-honey")

    # Price range 60–100 CNY within honey: the 120 CNY jar drops out.
    filters = page.locator("[data-testid=filters]")
    filters.locator("input[name=price_min]").fill("60")
    filters.locator("input[name=price_max]").fill("100")
    filters.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"price_max=100"))
    expect(card_titles(page)).to_have_count(2)
    grid = page.locator("[data-testid=product-grid]")
    expect(grid).to_contain_text("Buckwheat honey")
    expect(grid).to_contain_text("Sainfoin honey")
    expect(grid).not_to_contain_text("Mountain wildflower honey")
    expect(page.locator("[data-testid=category-nav] a[aria-current=page]")).to_contain_text("Honey")
    shoot("price-range")

    # Search in three languages from the whole storefront.
    page.goto(live_server.url + "/s/kz/")
    for words, step in [("honey", "search-en"), ("мёд", "search-ru"), ("蜂蜜", "search-zh")]:
        search(page, words)
        expect(page.locator("[data-testid=search]")).to_have_value(words)
        expect(card_titles(page)).to_have_count(3)
        expect(grid).to_contain_text("Buckwheat honey")
        expect(grid).to_contain_text("Mountain wildflower honey")
        expect(grid).not_to_contain_text("Dried apricots")
        shoot(step)
    search(page, "курага")
    expect(card_titles(page)).to_have_count(1)
    expect(card_titles(page)).to_have_text("Dried apricots")
    search(page, "saffron")
    expect(page.locator("[data-testid=no-results]")).to_contain_text("Nothing found.")
    shoot("search-nothing")

    # The product page: gallery, price in yuan, availability, seller.
    search(page, "buckwheat")
    page.locator("[data-testid=product-card] a.title", has_text="Buckwheat honey").click()
    expect(page).to_have_url(re.compile(rf"/p/{kz_pavilion['KZ-BUCK-500'].pk}/\?storefront=kz"))
    expect(page.locator("[data-testid=product-title]")).to_have_text("Buckwheat honey")
    gallery = page.locator("[data-testid=gallery]")
    main_photo = gallery.locator("#main-photo")
    expect(main_photo).to_be_visible()
    thumbs = gallery.locator(".thumbs a")
    expect(thumbs).to_have_count(2)
    first_src = main_photo.get_attribute("src")
    thumbs.nth(1).click()
    expect(main_photo).not_to_have_attribute("src", first_src)
    expect(page.locator(".buybox [data-testid=price]")).to_have_text("¥68.00")
    expect(page.locator("[data-testid=availability]")).to_contain_text("40 available")
    expect(page.locator("[data-testid=availability]")).to_contain_text("LHW")
    expect(page.locator("[data-testid=seller]")).to_have_text("Altyn Bal Honey & Dried Fruit LLP")
    expect(page.locator("[data-testid=attributes]")).to_contain_text("040900")
    expect(page.locator("[data-testid=description]")).to_contain_text("East Kazakhstan steppe")
    expect(page.locator("[data-testid=converted]")).to_have_count(0)
    shoot("product-en")

    # In Russian: the Russian title and description, the price in the Russian format.
    page.select_option("#language-switcher select", "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("[data-testid=product-title]")).to_have_text("Гречишный мёд")
    expect(page.locator("[data-testid=description]")).to_contain_text("степей Восточного Казахстана")
    expect(page.locator(".buybox [data-testid=price]")).to_have_text(Money.of("68.00", "CNY").format("ru"))
    expect(page.locator(".buybox [data-testid=price]")).to_have_text(re.compile(r"^68,00\s¥$"))
    expect(page.locator("[data-testid=availability]")).to_contain_text("40")
    shoot("product-ru")

    # buyer_kz (KZT wallet) logs in from here: the tenge price beside the yuan price.
    product_path = f"/p/{kz_pavilion['KZ-BUCK-500'].pk}/?storefront=kz"
    page.click("[data-testid=login-link]")
    page.fill("input[name=username]", "buyer_kz")
    page.fill("input[name=password]", "karavan-demo")
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.locator("[data-testid=username]")).to_have_text("buyer_kz")
    page.goto(live_server.url + product_path)
    fx = fx_rate("CNY", "KZT")
    assert fx is not None and fx.rate > 1
    tenge = Money.of("68.00", "CNY").convert(fx.rate, "KZT")
    converted = page.locator(".buybox [data-testid=converted]")
    expect(converted).to_contain_text("≈ " + tenge.format("ru"))
    expect(converted).to_contain_text(re.compile(r"≈ [\d\s]+,\d\d\s₸"))
    expect(converted).to_contain_text("1 CNY = ")
    expect(converted).to_contain_text(" KZT")
    expect(page.locator(".buybox [data-testid=price]")).to_have_text(re.compile(r"^68,00\s¥$"))
    shoot("product-buyer-kz")

    # On the storefront every card carries its tenge price too.
    page.goto(live_server.url + "/s/kz/?category=honey")
    expect(page.locator(".results-head")).to_contain_text("KZT")
    card = page.locator("[data-testid=product-card]", has_text="Гречишный мёд")
    expect(card.locator("[data-testid=price]")).to_have_text(re.compile(r"^68,00\s¥$"))
    expect(card.locator("[data-testid=converted]")).to_have_text("≈ " + tenge.format("ru"))
    expect(page.locator("[data-testid=product-card] [data-testid=converted]")).to_have_count(3)
    shoot("storefront-buyer-kz")
