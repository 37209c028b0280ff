"""Buyer and seller pages: what a person sees, and that a page costs the same queries at any size."""

import pytest
from django.urls import reverse

from core.models import Profile
from core.money import Money
from marketplace.models import Product

from .conftest import image_bytes, upload

pytestmark = pytest.mark.django_db


def text(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_home_shows_every_storefront_with_currency_and_featured_products(client, kz_company, make_product):
    make_product(kz_company, title="Mountain honey", zh="山花蜂蜜")
    html = text(client.get("/", HTTP_ACCEPT_LANGUAGE="en"))
    for code in ("kz", "kg", "uz", "tj", "tm", "cn-uz", "cn-kz"):
        assert f'data-testid="storefront-{code}"' in html
    assert "Mountain honey" in html and "¥88.00" in html and "UZS" in html


def test_storefront_page_lists_cards_in_the_visitors_language(client, kz_company, make_product):
    make_product(kz_company, title="Mountain honey", ru="Горный мёд", zh="山花蜂蜜")
    assert "Горный мёд" in text(client.get("/s/kz/", HTTP_ACCEPT_LANGUAGE="ru"))
    assert "山花蜂蜜" in text(client.get("/s/kz/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    html = text(client.get("/s/kz/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Mountain honey" in html and "Павильон" not in html


def test_storefront_filters_and_search_through_the_page(client, kz_company, make_product):
    make_product(kz_company, title="Mountain honey", prices={"kz": Money.of("120", "CNY")})
    make_product(kz_company, title="Dried apricots", category="dried-fruit-nuts", hs_code="081310",
                 prices={"kz": Money.of("30", "CNY")})
    assert "Dried apricots" not in text(client.get("/s/kz/?category=honey"))
    assert "Mountain honey" not in text(client.get("/s/kz/?price_max=50"))
    html = text(client.get("/s/kz/?q=apricot"))
    assert "Dried apricots" in html and "Mountain honey" not in html
    html = text(client.get("/s/kz/?q=zzzz"))
    assert 'data-testid="no-results"' in html


def test_a_bad_filter_shows_a_message_not_a_crash(client, kz_company, make_product):
    make_product(kz_company, title="Mountain honey")
    html = text(client.get("/s/kz/?price_min=abc", HTTP_ACCEPT_LANGUAGE="en"))
    assert 'data-testid="filter-error"' in html and "Mountain honey" in html


def test_unknown_storefront_is_404(client, reference):
    assert client.get("/s/nowhere/").status_code == 404


def test_buyer_with_another_wallet_currency_sees_the_converted_price(client, buyer, kz_company, make_product):
    from core.money import Money
    from payments.interface import Owner
    from payments.services import top_up

    make_product(kz_company)
    Profile.objects.update_or_create(user=buyer, defaults={"currency_id": "KZT"})
    client.force_login(buyer)
    # No wallet yet: only the storefront's price.
    assert 'data-testid="converted"' not in text(client.get("/s/kz/", HTTP_ACCEPT_LANGUAGE="en"))
    top_up(owner=Owner.user(buyer), amount=Money.of("1000", "KZT"), provider="simulator", provider_event_id="t-1",
           actor=buyer)
    html = text(client.get("/s/kz/", HTTP_ACCEPT_LANGUAGE="en"))
    assert 'data-testid="converted"' in html and "₸" in html


@pytest.mark.parametrize("url", ["/s/kz/", "/s/kz/?q=honey&category=food&in_stock=1&ordering=price", "/"])
def test_page_query_count_does_not_grow_with_the_number_of_products(client, kz_company, make_product, settings,
                                                                    django_assert_num_queries, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from warehouses.models import StockLevel

    def stocked(title):
        # In stock at a warehouse of the kz storefront, so the filtered page lists it too: a page that
        # lists nothing would have the same number of queries whatever the products.
        product = make_product(kz_company, title=title)
        StockLevel.objects.create(warehouse_id="LHW", sku=product.sku, bond_status="bonded", on_hand=5, reserved=0)

    settings.MARKETPLACE_PAGE_SIZE = 30
    stocked("Honey 0")
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as one:
        assert "Honey 0" in text(client.get(url))
    for i in range(1, 12):
        stocked(f"Honey {i}")
    with django_assert_num_queries(len(one.captured_queries)):
        html = text(client.get(url))
    assert "Honey 11" in html


def test_product_page_shows_gallery_price_availability_seller_and_add_to_cart(
        client, kz_company, make_product, django_capture_on_commit_callbacks):
    from core.access import SYSTEM_ACTOR
    from marketplace import services
    from warehouses.models import StockLevel

    product = make_product(kz_company, title="Mountain honey", description="Raw honey.",
                           )
    services.product_update(product=product, actor=SYSTEM_ACTOR, attributes={"Volume": "500 ml"})
    with django_capture_on_commit_callbacks(execute=True):
        services.product_image_add(product=product, upload=upload(image_bytes()), actor=SYSTEM_ACTOR)
    StockLevel.objects.create(warehouse_id="LHW", sku=product.sku, bond_status="bonded", on_hand=7, reserved=2)
    html = text(client.get(f"/p/{product.pk}/?storefront=kz", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Mountain honey" in html and "Raw honey." in html and "Altyn Bal LLP" in html
    assert "¥88.00" in html and "5 available" in html and "500 ml" in html and "040900" in html
    form = html.split('data-testid="add-to-cart-form"')[1].split("</form>")[0]
    assert 'action="/cart/add/"' in html.split('data-testid="add-to-cart-form"')[0][-120:]
    assert 'name="csrfmiddlewaretoken"' in form and f'value="{product.pk}"' in form and "disabled" not in form
    assert "/img/products/" in html


def test_product_page_query_count_is_constant_in_the_number_of_photos(client, kz_company, make_product,
                                                                        django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.access import SYSTEM_ACTOR
    from marketplace import services

    product = make_product(kz_company)
    services.product_image_add(product=product, upload=upload(image_bytes()), actor=SYSTEM_ACTOR)
    url = f"/p/{product.pk}/?storefront=kz"
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        text(client.get(url))
    for _ in range(4):
        services.product_image_add(product=product, upload=upload(image_bytes()), actor=SYSTEM_ACTOR)
    with django_assert_num_queries(len(one.captured_queries)):
        text(client.get(url))


def test_draft_product_page_is_404_to_buyers(client, kz_company, make_product):
    draft = make_product(kz_company, status="draft")
    assert client.get(f"/p/{draft.pk}/").status_code == 404


# --- seller portal ----------------------------------------------------------------------------


def test_seller_creates_a_product_through_the_editor(client, seller, kz_company):
    client.force_login(seller)
    assert "Altyn Bal LLP" in text(client.get(reverse("seller-product-new")))
    response = client.post(reverse("seller-product-new"), {
        "sku_code": "BAL-1", "status": "active", "category": "honey", "hs_code": "040900", "origin_country": "KZ",
        "net_weight_g": "500", "gross_weight_g": "600", "title_en": "Linden honey", "title_ru": "Липовый мёд",
        "description_en": "Light and floral.", "price_kz": "75.50", "attributes": "Volume: 500 ml",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    product = Product.objects.get(sku_code="BAL-1")
    assert product.status == "active" and product.attributes == {"Volume": "500 ml"}
    assert product.listings.get().price_minor == 7550
    assert "Linden honey" in text(client.get(reverse("seller-products")))


def test_editor_shows_a_service_refusal_on_its_field(client, seller, kz_company):
    client.force_login(seller)
    html = text(client.post(reverse("seller-product-new"), {
        "sku_code": "BAL-1", "status": "draft", "category": "honey", "hs_code": "123456", "origin_country": "KZ",
        "net_weight_g": "500", "title_en": "Linden honey",
    }))
    assert "not in the customs reference" in html and not Product.objects.exists()


def test_seller_cannot_open_another_companys_product_in_the_editor(client, other_seller, make_company, kz_company,
                                                                    make_product):
    make_company("KZ", owner=other_seller, storefronts=["kz"])
    product = make_product(kz_company)
    client.force_login(other_seller)
    assert client.get(reverse("seller-product-edit", args=[product.pk])).status_code == 404
    assert client.post(reverse("seller-product-image", args=[product.pk]), {"image": upload(image_bytes())}).status_code == 404


def test_photo_upload_through_the_editor_reports_a_bad_file(client, seller, kz_company, make_product):
    product = make_product(kz_company)
    client.force_login(seller)
    response = client.post(reverse("seller-product-image", args=[product.pk]),
                           {"image": upload(b"GIF89a not really", "x.jpg")}, follow=True)
    assert "not a JPEG, PNG or WebP" in response.content.decode()
    assert not product.images.exists()


def test_seller_registers_a_company_and_a_wrong_bin_is_explained(client, seller, reference):
    client.force_login(seller)
    html = text(client.post(reverse("seller-company"), {"form": "company", "name": "Dala Foods", "country": "KZ",
                                                         "tax_id": "123456789012"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "check digit" in html
    response = client.post(reverse("seller-company"), {"form": "company", "name": "Dala Foods", "country": "KZ",
                                                       "tax_id": "100000000001"})
    assert response.status_code == 302
    html = text(client.get(reverse("seller-company"), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Dala Foods" in html and "Pending verification" in html


def test_a_pavilion_refuses_a_company_of_another_country(client, seller, kz_company, reference):
    from marketplace.models import Storefront

    client.force_login(seller)
    html = text(client.post(reverse("seller-company"), {"form": "join", "company": kz_company.pk,
                                                         "storefront": Storefront.objects.get(code="uz").pk},
                            HTTP_ACCEPT_LANGUAGE="en"))
    assert "admits only companies registered in UZ" in html


def test_seller_pages_are_not_for_buyers(client, buyer):
    client.force_login(buyer)
    assert client.get(reverse("seller-products")).status_code == 404


@pytest.mark.parametrize(("language", "words"), [
    ("ru", ["Поиск по витрине", "Все категории", "Только в наличии", "Сначала дешёвые"]),
    ("zh-hans", ["在本店铺搜索", "全部类目", "仅看有货", "价格从低到高"]),
    ("kk", ["Витринадан іздеу"]), ("uz", ["Vitrinadan qidirish"]),
])
def test_storefront_page_is_translated(client, kz_company, make_product, language, words):
    make_product(kz_company)
    html = text(client.get("/s/kz/", HTTP_ACCEPT_LANGUAGE=language))
    for word in words:
        assert word in html


def test_tax_id_errors_are_translated(client, seller, reference):
    client.force_login(seller)
    html = text(client.post(reverse("seller-company"), {"form": "company", "name": "Dala", "country": "KZ",
                                                         "tax_id": "123456789012"}, HTTP_ACCEPT_LANGUAGE="ru"))
    assert "Контрольная цифра БИН/ИИН не сходится" in html
