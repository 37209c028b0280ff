"""The product editor: photos with the first save (cover chosen, one refused file creates nothing),
photos reordered, the price bound (form and API), the HS-code helper, errors where the seller looks."""

import re

import pytest
from django.urls import reverse

from marketplace.models import Product
from marketplace.services import PRICE_MAX_MAJOR

from .conftest import image_bytes, upload

pytestmark = pytest.mark.django_db

FACTS = {"sku_code": "BAL-1", "status": "draft", "category": "honey", "hs_code": "040900", "origin_country": "KZ",
         "net_weight_g": "500", "title_en": "Linden honey", "title_ru": "Липовый мёд", "price_kz": "75.50"}


def test_a_product_is_created_with_two_photos_and_the_chosen_cover_in_one_step(client, seller, kz_company):
    client.force_login(seller)
    response = client.post(reverse("seller-product-new"), {
        **FACTS, "photos": [upload(image_bytes(size=(640, 480)), "jar.jpg"),
                            upload(image_bytes("PNG", size=(300, 300)), "label.png", "image/png")],
        "cover": "1",
    })
    product = Product.objects.get(sku_code="BAL-1")
    assert response.status_code == 302 and response["Location"] == reverse("seller-product-edit", args=[product.pk])
    photos = list(product.images.order_by("position"))
    assert [(p.width, p.height, p.position) for p in photos] == [(640, 480, 0), (300, 300, 1)]
    assert product.cover_id == photos[1].pk
    html = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Product saved with 2 photos." in html
    assert html.count('name="cover"') == 2 and f'name="cover" value="{photos[1].pk}" checked' in html


def test_one_refused_photo_creates_nothing_and_the_error_is_at_the_top_and_at_the_field(client, seller, kz_company):
    client.force_login(seller)
    response = client.post(reverse("seller-product-new"), {
        **FACTS, "photos": [upload(image_bytes(), "jar.jpg"), upload(b"just some notes", "notes.jpg")],
    }, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200 and not Product.objects.exists()
    summary = re.search(r'data-testid="error-summary">(.*?)</div>', html, re.S).group(1)
    assert "notes.jpg: This file is not a JPEG, PNG or WebP photo." in summary
    assert '<small class="error" data-testid="photos-error">notes.jpg: This file is not a JPEG' in html
    # What was typed stays.
    assert 'value="Linden honey"' in html and 'value="75.50"' in html


def test_photos_are_lost_by_a_refused_form_and_the_page_says_so(client, seller, kz_company):
    client.force_login(seller)
    html = client.post(reverse("seller-product-new"), {**FACTS, "hs_code": "04090", "photos": [upload(image_bytes())]},
                       HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "choose them again" in html and not Product.objects.exists()


def test_a_price_beyond_the_bound_is_refused_on_its_field(client, seller, kz_company):
    client.force_login(seller)
    html = client.post(reverse("seller-product-new"), {**FACTS, "price_kz": "9999999999999"},
                       HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert not Product.objects.exists()
    field = re.search(r'data-testid="currency-kz">CNY</span></div>\s*<small class="error">([^<]+)</small>', html)
    assert field and "at most" in field.group(1) and "1,000,000,000" in field.group(1)
    # The bound itself is accepted.
    response = client.post(reverse("seller-product-new"), {**FACTS, "price_kz": str(PRICE_MAX_MAJOR)})
    assert response.status_code == 302
    assert Product.objects.get().listings.get().price_minor == PRICE_MAX_MAJOR * 100


def test_the_api_refuses_a_price_beyond_the_bound_with_its_field(api_as, seller, kz_company):
    from .test_api import PAYLOAD

    response = api_as(seller).post("/api/v1/products/", {**PAYLOAD, "prices": {
        "kz": {"amount": "9999999999999.00", "currency": "CNY"}}}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_amount" and list(error["fields"]) == ["prices.kz"]
    assert not Product.objects.exists()


def test_saved_photos_are_reordered_and_the_cover_changed(client, seller, kz_company, make_product):
    from marketplace import services

    product = make_product(kz_company)
    first, second, third = services.product_photos_add(
        product=product, uploads=[upload(image_bytes(size=(100 + i, 100))) for i in range(3)], actor=seller)
    product.refresh_from_db()
    assert product.cover_id == first.pk
    client.force_login(seller)
    response = client.post(reverse("seller-product-photos-arrange", args=[product.pk]), {
        f"position_{first.pk}": "3", f"position_{second.pk}": "1", f"position_{third.pk}": "2", "cover": third.pk})
    assert response.status_code == 302
    product.refresh_from_db()
    assert list(product.images.values_list("pk", flat=True)) == [second.pk, third.pk, first.pk]
    assert product.cover_id == third.pk
    # Another seller's photo cannot be named.
    response = client.post(reverse("seller-product-photos-arrange", args=[product.pk]), {"cover": 999999}, follow=True)
    assert "Unknown photo." in response.content.decode()


def test_an_upload_error_on_a_saved_product_is_shown_on_the_page_not_behind_an_anchor(client, seller, kz_company,
                                                                                        make_product):
    product = make_product(kz_company)
    client.force_login(seller)
    response = client.post(reverse("seller-product-image", args=[product.pk]),
                           {"image": [upload(image_bytes()), upload(b"nope", "x.jpg")]}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 400 and not product.images.exists()
    assert re.search(r'class="flash flash-error"[^>]*>x.jpg: This file is not a JPEG', html)
    assert '<small class="error" data-testid="image-error">x.jpg: This file is not a JPEG' in html
    # Two good photos at once are added, with the message at the top.
    response = client.post(reverse("seller-product-image", args=[product.pk]),
                           {"image": [upload(image_bytes()), upload(image_bytes("PNG"), "b.png", "image/png")]})
    assert response.status_code == 302 and "#" not in response["Location"]
    assert product.images.count() == 2


def test_the_hs_helper_finds_codes_by_digits_or_words_in_the_readers_language(client, seller, kz_company):
    client.force_login(seller)
    url = reverse("seller-hs-codes")
    html = client.get(url, {"hs_code": "honey"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-hs="040900"' in html and "honey" in html.lower()
    russian = client.get(url, {"hs_code": "0409"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'data-hs="040900"' in russian and re.search("[а-яА-Я]", russian)
    assert 'data-testid="hs-none"' in client.get(url, {"hs_code": "zzzz"}).content.decode()
    client.logout()
    assert client.get(url, {"hs_code": "honey"}).status_code == 302  # to the login page


def test_the_editor_lays_texts_side_by_side_and_shows_each_price_currency(client, seller, kz_company):
    client.force_login(seller)
    html = client.get(reverse("seller-product-new"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert html.count('class="lang-col"') == 5
    assert 'data-testid="currency-kz">CNY<' in html
    assert 'enctype="multipart/form-data"' in html and 'name="photos"' in html and "multiple" in html
    assert 'hx-get="/seller/hs-codes/"' in html
