"""The buyer's cart, checkout and order pages (Django's test client)."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from core.models import Profile
from core.texts import render
from orders import services as orders
from orders.cart import SESSION_KEY
from orders.models import Order

from .conftest import CN_ADDRESS, fund, reserved

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_cn(client, buyer_cn):
    client.force_login(buyer_cn)
    return client


def add(client, product, storefront="kz", quantity=1, **extra):
    return client.post(reverse("cart-add"), {"product": product.pk, "storefront": storefront, "quantity": quantity, **extra})


def place(buyer, product, quantity=1):
    return orders.order_place(buyer=buyer, storefront="kz", lines=[{"product": product.pk, "quantity": quantity}],
                              ship_to=dict(CN_ADDRESS))


# --- cart ---------------------------------------------------------------------------------------


def test_product_page_has_an_add_to_cart_form(client_cn, honey):
    page = client_cn.get(reverse("product", args=[honey.pk]) + "?storefront=kz").content.decode()
    assert f'action="{reverse("cart-add")}"' in page
    assert 'name="quantity"' in page and "csrfmiddlewaretoken" in page


def test_add_update_remove_and_subtotal(client_cn, honey, apricots):
    assert add(client_cn, honey, quantity=2).status_code == 302
    add(client_cn, apricots)
    add(client_cn, honey)  # adds to the existing line
    assert client_cn.session[SESSION_KEY] == {"storefront": "kz", "lines": [{"product": honey.pk, "quantity": 3},
                                                                           {"product": apricots.pk, "quantity": 1}]}
    page = client_cn.get(reverse("cart")).content.decode()
    assert "Mountain honey" in page and "Dried apricots" in page
    assert "¥88.00" in page and "¥264.00" in page
    assert "¥309.50" in page  # 3 × 88 + 45.50
    assert reverse("checkout") in page

    client_cn.post(reverse("cart-update"), {"product": honey.pk, "quantity": 1})
    assert "¥133.50" in client_cn.get(reverse("cart")).content.decode()
    client_cn.post(reverse("cart-update"), {"product": apricots.pk, "action": "remove"})
    page = client_cn.get(reverse("cart")).content.decode()
    assert "Dried apricots" not in page and "¥88.00" in page
    client_cn.post(reverse("cart-update"), {"product": honey.pk, "quantity": 0})
    assert 'data-testid="cart-empty"' in client_cn.get(reverse("cart")).content.decode()


def test_bad_quantity_is_refused(client_cn, honey):
    response = add(client_cn, honey, quantity=0)
    assert response.status_code == 302
    assert SESSION_KEY not in client_cn.session or not client_cn.session[SESSION_KEY]["lines"]
    add(client_cn, honey, quantity=2)
    page = client_cn.post(reverse("cart-update"), {"product": honey.pk, "quantity": "x"}, follow=True).content.decode()
    assert "Enter a whole number." in page
    assert client_cn.session[SESSION_KEY]["lines"][0]["quantity"] == 2


def test_product_of_another_storefront_offers_to_empty_the_cart(client_cn, honey, phone):
    add(client_cn, honey)
    response = add(client_cn, phone, storefront="cn-kz")
    assert response.status_code == 302 and response.url == reverse("cart")
    page = client_cn.get(reverse("cart")).content.decode()
    assert 'data-testid="cart-conflict"' in page and "cn-kz" in page
    assert client_cn.session[SESSION_KEY]["lines"] == [{"product": honey.pk, "quantity": 1}]
    add(client_cn, phone, storefront="cn-kz", replace="1")
    assert client_cn.session[SESSION_KEY] == {"storefront": "cn-kz", "lines": [{"product": phone.pk, "quantity": 1}]}


def test_product_not_on_that_storefront_is_refused(client_cn, honey):
    add(client_cn, honey, storefront="cn-kz")
    assert not client_cn.session.get(SESSION_KEY, {}).get("lines")


def test_pages_need_a_buyer(client, honey, kz_seller):
    assert client.get(reverse("cart")).status_code == 302  # to the login page
    client.force_login(kz_seller)
    assert client.get(reverse("cart")).status_code == 404


# --- checkout -----------------------------------------------------------------------------------


def test_checkout_is_prefilled_from_the_profile_and_places_the_order(client_cn, buyer_cn, honey):
    Profile.objects.update_or_create(user=buyer_cn, defaults={"country_id": "CN", "city": "Urumqi", "phone": "+86 138 0013 8000"})
    add(client_cn, honey, quantity=2)
    form = client_cn.get(reverse("checkout")).context["form"]
    assert form.initial["country"] == "CN" and form.initial["city"] == "Urumqi"
    assert [c for c, _n in form.fields["country"].choices] == ["CN"]  # the kz pavilion delivers to China
    response = client_cn.post(reverse("checkout"), CN_ADDRESS)
    order = Order.objects.get(buyer=buyer_cn)
    assert response.status_code == 302 and response.url == reverse("order-detail", args=[order.pk])
    assert order.status == "placed" and order.lines.get().quantity == 2
    assert not client_cn.session[SESSION_KEY]["lines"]
    assert reserved(honey) == 2


def test_checkout_country_outside_the_markets_is_a_form_error(client_cn, buyer_cn, honey):
    add(client_cn, honey)
    response = client_cn.post(reverse("checkout"), {**CN_ADDRESS, "country": "KZ"})
    assert response.status_code == 200
    assert response.context["form"].errors["country"]
    assert not Order.objects.exists()


def test_checkout_service_errors_land_on_their_field(client_cn, buyer_cn, honey, monkeypatch):
    add(client_cn, honey)
    # A storefront market the service refuses (the form lets it through): the service names ship_to.country.
    from core.errors import DomainError, ErrorCode

    def refuse(**kwargs):
        raise DomainError(ErrorCode.VALIDATION, "Check the delivery address.",
                          {"ship_to.country": ["This storefront delivers to CN only."], "ship_to.phone": ["Bad phone."]})

    monkeypatch.setattr(orders, "order_place", refuse)
    form = client_cn.post(reverse("checkout"), CN_ADDRESS).context["form"]
    assert form.errors["country"] == ["This storefront delivers to CN only."]
    assert form.errors["phone"] == ["Bad phone."]


def test_checkout_insufficient_stock_shows_on_the_cart_line(client_cn, buyer_cn, honey):
    add(client_cn, honey, quantity=25)  # 20 in Lanzhou
    response = client_cn.post(reverse("checkout"), CN_ADDRESS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Only 20 available, 25 wanted." in page
    assert "Not enough stock." in page
    assert not Order.objects.exists() and reserved(honey) == 0
    assert client_cn.session[SESSION_KEY]["lines"][0]["quantity"] == 25  # the cart stays


def test_checkout_customs_limit_is_shown_and_nothing_is_created(client_cn, buyer_cn, honey):
    add(client_cn, honey, quantity=20)  # 20 × 88 = 1,760 CNY: below the 5,000 CNY per order
    fund(buyer_cn, "1.00", "CNY")
    honey.listings.filter(storefront="kz").update(price_minor=40000)  # 20 × 400 = 8,000 CNY
    response = client_cn.post(reverse("checkout"), CN_ADDRESS)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not Order.objects.exists() and reserved(honey) == 0


def test_checkout_on_a_storefront_closed_since_the_cart_was_filled_places_nothing(client_cn, buyer_cn, honey):
    """The checkout page places through the same path as the API: a storefront closed meanwhile is
    refused with a form error, and nothing is reserved."""
    from marketplace.models import Storefront

    add(client_cn, honey)
    Storefront.objects.filter(code="kz").update(is_active=False)
    response = client_cn.post(reverse("checkout"), CN_ADDRESS)
    assert response.status_code == 200
    assert "Unknown storefront." in " ".join(response.context["form"].non_field_errors())
    assert not Order.objects.exists() and reserved(honey) == 0


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client_cn):
    assert client_cn.get(reverse("checkout")).url == reverse("cart")


# --- order page ---------------------------------------------------------------------------------


def test_order_page_shows_landed_cost_and_timeline(client_cn, buyer_cn, honey):
    order = place(buyer_cn, honey, 2)
    page = client_cn.get(reverse("order-detail", args=[order.pk])).content.decode()
    assert 'data-status="placed"' in page
    assert order.regime.startswith("cn_cbec") and order.regime in page
    assert order.goods.format("en") in page and order.total.format("en") in page
    assert 'data-testid="breakdown-line"' in page
    for item in order.landed_cost["breakdown"]:
        assert escape(render(item["rule_text"], "en")) in page
    assert 'data-testid="time-left"' in page
    assert reverse("order-pay", args=[order.pk]) in page and reverse("order-cancel", args=[order.pk]) in page
    assert 'data-testid="event"' in page


def test_order_page_reads_the_quote_in_the_readers_language(client_cn, buyer_cn, honey):
    order = place(buyer_cn, honey, 2)
    page = client_cn.get(reverse("order-detail", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    for item in order.landed_cost["breakdown"]:
        kazakh, english = render(item["rule_text"], "kk"), render(item["rule_text"], "en")
        assert kazakh != english and escape(kazakh) in page
        assert escape(english) not in page
    for message in order.landed_cost["warnings_text"]:
        assert escape(render(message, "kk")) in page
    # The API answers in the caller's language too, in the quote's own shape.
    body = client_cn.get(f"/api/v1/orders/{order.pk}/", HTTP_ACCEPT_LANGUAGE="kk").json()
    assert [i["rule"] for i in body["landed_cost"]["breakdown"]] == [render(i["rule_text"], "kk") for i in order.landed_cost["breakdown"]]
    assert "warnings_text" not in body["landed_cost"] and "rule_text" not in body["landed_cost"]["breakdown"][0]


def test_orders_name_their_products_in_the_readers_language(client_cn, buyer_cn, honey, apricots):
    from marketplace.models import ProductTranslation

    order, other = place(buyer_cn, honey), place(buyer_cn, apricots)
    # Written after the order: the line keeps the title it was sold under, in English.
    ProductTranslation.objects.bulk_create([ProductTranslation(product=honey, language="ru", title="Горный мёд"),
                                            ProductTranslation(product=honey, language="zh", title="山地蜂蜜"),
                                            ProductTranslation(product=apricots, language="ru", title="Курага")])
    assert order.lines.get().title == "Mountain honey"

    def page(name, language, *args):
        return client_cn.get(reverse(name, args=args), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert "山地蜂蜜" in page("order-detail", "zh-hans", order.pk) and "山地蜂蜜" in page("orders", "zh-hans")
    # A Kazakh reader reads Russian before English; an English reader English.
    assert "Горный мёд" in page("order-detail", "kk", order.pk) and "Горный мёд" in page("orders", "kk")
    assert "Mountain honey" in page("order-detail", "en", order.pk)
    # Written in none of the reader's languages (Chinese, then English): the title stored with the line.
    ProductTranslation.objects.filter(product=apricots).exclude(language="ru").delete()
    assert "Dried apricots" in page("order-detail", "zh-hans", other.pk) and "Курага" in page("orders", "kk")


def test_pay_from_wallet(client_cn, buyer_cn, honey):
    order = place(buyer_cn, honey)
    response = client_cn.post(reverse("order-pay", args=[order.pk]))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "paid"
    page = client_cn.get(reverse("order-detail", args=[order.pk])).content.decode()
    assert page.count('data-testid="event"') == 2
    assert reverse("order-pay", args=[order.pk]) not in page


def test_pay_with_insufficient_funds_links_to_the_wallet(client, make_user, reference, honey):
    poor = make_user("buyer_poor", "buyer")
    client.force_login(poor)
    order = place(poor, honey)
    response = client.post(reverse("order-pay", args=[order.pk]))
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not enough money in your CNY wallet" in page
    assert reverse("payments:wallet", args=["CNY"]) in page
    order.refresh_from_db()
    assert order.status == "placed"


def test_cancel(client_cn, buyer_cn, honey):
    order = place(buyer_cn, honey, 3)
    client_cn.post(reverse("order-cancel", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == "cancelled" and reserved(honey) == 0
    page = client_cn.get(reverse("order-detail", args=[order.pk])).content.decode()
    assert 'data-status="cancelled"' in page and reverse("order-cancel", args=[order.pk]) not in page


def test_another_buyers_order_is_404(client, make_user, buyer_cn, honey):
    order = place(buyer_cn, honey)
    client.force_login(make_user("buyer_other", "buyer"))
    assert client.get(reverse("order-detail", args=[order.pk])).status_code == 404
    assert client.post(reverse("order-pay", args=[order.pk])).status_code == 404
    assert client.post(reverse("order-cancel", args=[order.pk])).status_code == 404
    order.refresh_from_db()
    assert order.status == "placed"


# --- my orders ----------------------------------------------------------------------------------


def test_my_orders_newest_first_with_a_constant_query_count(client_cn, buyer_cn, honey, apricots,
                                                            django_assert_num_queries):
    first = place(buyer_cn, honey)
    orders.order_pay(order=first, actor=buyer_cn)
    client_cn.get(reverse("orders"))  # warm the session and the user
    with django_assert_num_queries(8) as captured:
        client_cn.get(reverse("orders"))
    few = len(captured.captured_queries)
    for _i in range(4):
        place(buyer_cn, apricots)
    with django_assert_num_queries(few):
        response = client_cn.get(reverse("orders"))
    page = response.content.decode()
    rows = response.context["orders"]
    assert [o.pk for o in rows] == sorted((o.pk for o in rows), reverse=True) and len(rows) == 5
    assert 'class="badge ok" data-testid="order-status">Paid' in page
    assert first.total.format("en") in page


def test_my_orders_read_in_the_buyers_time_zone(client, buyer_kz, honey):
    from datetime import UTC, datetime

    Profile.objects.filter(user=buyer_kz).update(country_id="KZ")
    order = place(buyer_kz, honey)
    Order.objects.filter(pk=order.pk).update(placed_at=datetime(2026, 12, 1, 6, 27, tzinfo=UTC))
    client.force_login(buyer_kz)  # the profile's country, read at login: Almaty, UTC+5
    client.cookies["karavan_language"] = "kk"

    assert "01.12.2026 11:27" in client.get(reverse("orders")).content.decode()
    client.cookies["karavan_tz"] = "Asia/Shanghai"  # the browser's own zone, once karavan.js has set it
    assert "01.12.2026 14:27" in client.get(reverse("orders")).content.decode()


def test_checkout_shows_the_full_landed_cost_before_the_order_is_placed(client_cn, buyer_cn, honey):
    add(client_cn, honey, quantity=3)
    page = client_cn.get(reverse("checkout")).content.decode()
    assert 'data-testid="landed-preview"' in page and 'hx-get="/checkout/quote/"' in page
    assert Order.objects.count() == 0 and reserved(honey) == 0  # nothing reserved by looking

    client_cn.post(reverse("checkout"), {"country": "CN", "city": "Urumqi", "address": "88 Xinhua Road",
                                         "postal_code": "830002", "name": "Li Wei", "phone": "+86 138 0013 8000",
                                         "id_number": CN_ADDRESS["id_number"]})
    order = Order.objects.get()
    # The box promised exactly what the order then fixed.
    assert order.goods.format("en") in page and order.shipping.format("en") in page and order.total.format("en") in page
    assert order.taxes_minor > 0


def test_the_quote_box_follows_the_country_and_says_when_stock_is_short(client_cn, buyer_cn, honey):
    add(client_cn, honey, quantity=2)
    box = client_cn.get(reverse("checkout-quote"), {"country": "CN"}).content.decode()
    assert 'data-testid="preview-total"' in box
    nowhere = client_cn.get(reverse("checkout-quote"), {"country": "US"}).content.decode()
    assert 'data-testid="preview-error"' in nowhere
    from core.access import SYSTEM_ACTOR
    from warehouses import services as wh

    wh.stock_adjust(warehouse="LHW", sku_id=honey.sku_id, bond_status="bonded", quantity=-19, reason="damaged",
                    actor=SYSTEM_ACTOR)
    short = client_cn.get(reverse("checkout-quote"), {"country": "CN"}).content.decode()
    assert 'data-testid="preview-error"' in short


def test_the_product_page_asks_for_an_estimate_and_gets_the_landed_cost_of_one_unit(client_cn, buyer_cn, honey):
    page = client_cn.get(f"/p/{honey.pk}/?storefront=kz").content.decode()
    assert 'data-testid="estimate-slot"' in page
    box = client_cn.get(reverse("product-estimate"), {"product": honey.pk, "storefront": "kz"}).content.decode()
    quote = orders.order_quote(buyer=buyer_cn, storefront="kz", lines=[{"product": honey.pk, "quantity": 1}], country="CN")
    assert quote["total"].format("en") in box and reserved(honey) == 0
