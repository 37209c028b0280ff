"""POST /api/v1/orders/: the contract shape, the landed cost, and refusals that leave nothing behind."""

from decimal import Decimal

import pytest

from core.models import TransitionEvent
from core.money import Money
from customs import services as customs
from customs.interface import QuoteLine
from orders.models import Order, OrderLine
from orders.services import shipping_for
from warehouses.models import Reservation, StockLevel

from .conftest import CN_ADDRESS, CN_ID, KZ_IIN, available, make_product, order_body

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


def expected_quote(storefront, lines, destination, buyer, warehouse):
    """The customs quote for the same goods, asked directly: the order must show exactly this."""
    currency = storefront.currency_id
    shipping = shipping_for(storefront, sum(p.gross_weight_g * q for p, q in lines))
    return customs.quote(
        origin_country=lines[0][0].origin_country_id, destination_country=destination, currency=currency,
        lines=[QuoteLine(hs_code=p.hs_code, description=p.translations.get(language="en").title, quantity=q,
                         unit_price=Money(p.listings.get(storefront=storefront).price_minor, currency),
                         weight_kg=Decimal(p.gross_weight_g) / 1000, origin_country=p.origin_country_id) for p, q in lines],
        shipping=shipping, insurance=Money.zero(currency), buyer_id=buyer.pk, source_warehouse=warehouse,
    )


def test_kz_pavilion_order_to_china_is_quoted_as_1210_from_lanzhou(api_as, buyer_cn, honey, apricots):
    response = api_as(buyer_cn).post(URL, order_body("kz", [(honey, 3), (apricots, 2)]), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {"id", "status", "lines", "landed_cost", "total", "currency", "expires_at", "events"} <= set(body)
    assert body["status"] == "placed" and body["currency"] == "CNY"
    assert [(ln["product"], ln["quantity"]) for ln in body["lines"]] == [(honey.pk, 3), (apricots.pk, 2)]
    assert body["lines"][0]["unit_price"] == {"amount": "88.00", "currency": "CNY"}
    assert body["lines"][0]["line_total"] == {"amount": "264.00", "currency": "CNY"}
    assert body["lines"][0]["title"] == "Mountain honey"

    storefront = Order.objects.get(pk=body["id"]).storefront
    quote = expected_quote(storefront, [(honey, 3), (apricots, 2)], "CN", buyer_cn, "LHW")
    assert body["landed_cost"] == quote.to_api()
    assert body["landed_cost"]["regime"] == "cn_cbec_1210"
    # 2 kg gross (3 × 550 g + 2 × 300 g = 2.25 kg → 3 started kg): 30 + 3 × 12 = 66.00 CNY.
    assert body["shipping"] == {"amount": "66.00", "currency": "CNY"}
    assert body["goods"] == {"amount": "355.00", "currency": "CNY"}
    assert body["total"] == quote.landed_cost.to_api()
    assert Money.from_api(body["total"]) == (Money.from_api(body["goods"]) + Money.from_api(body["shipping"])
                                             + Money.from_api(body["taxes"]))
    assert Money.from_api(body["taxes"]) > Money.zero("CNY")

    [event] = body["events"]
    assert event["status"] == "placed" and event["actor"] == "buyer_cn" and event["place"] == "LHW"
    assert available(honey, "LHW") == 17 and available(apricots, "LHW") == 3


def test_cn_kz_order_to_kazakhstan_matches_the_personal_parcel_quote(api_as, buyer_kz, phone):
    response = api_as(buyer_kz).post(URL, order_body("cn-kz", [(phone, 2)]), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    storefront = Order.objects.get(pk=body["id"]).storefront
    quote = expected_quote(storefront, [(phone, 2)], "KZ", buyer_kz, "ALA")
    assert body["landed_cost"] == quote.to_api()
    assert body["landed_cost"]["regime"] == "eaeu_ecommerce"
    assert body["currency"] == "KZT" and body["total"] == quote.landed_cost.to_api()
    # 190,000 KZT of goods is above the 200 EUR allowance: the parcel pays.
    assert Money.from_api(body["taxes"]) > Money.zero("KZT")
    assert available(phone, "ALA") == 8


def _snapshot(*products):
    return {
        "orders": Order.objects.count(), "lines": OrderLine.objects.count(), "reservations": Reservation.objects.count(),
        "events": TransitionEvent.objects.filter(machine="order").count(),
        "levels": sorted(StockLevel.objects.values_list("sku_id", "warehouse_id", "on_hand", "reserved")),
    }


REFUSALS = [
    # (case, lines as (fixture, quantity), address changes, status, code, field)
    ("ship to a country the storefront does not serve", [("honey", 1)], {"country": "KZ"}, 400, "validation_error", "ship_to.country"),
    ("unknown ship-to country", [("honey", 1)], {"country": "ZZ"}, 400, "validation_error", "ship_to.country"),
    ("missing name", [("honey", 1)], {"name": ""}, 400, "validation_error", "ship_to.name"),
    ("bad phone", [("honey", 1)], {"phone": "call me"}, 400, "validation_error", "ship_to.phone"),
    ("quantity zero", [("honey", 0)], {}, 400, "validation_error", "lines.0.quantity"),
    ("quantity above 1000", [("honey", 1001)], {}, 400, "validation_error", "lines.0.quantity"),
    ("same product twice", [("honey", 1), ("honey", 2)], {}, 400, "validation_error", "lines.1.product"),
    ("product of another storefront", [("honey", 1), ("phone", 1)], {}, 400, "validation_error", "lines.1.product"),
    ("draft product", [("draft", 1)], {}, 400, "validation_error", "lines.0.product"),
    # The first line could be reserved; the second cannot: the first one's units must come back.
    ("second line short of stock", [("honey", 2), ("apricots", 6)], {}, 409, "insufficient_stock", "lines.1"),
    # 2 barrels × 2,900 CNY: above China's 5,000 CNY per-order limit (the stock is there).
    ("over the 5,000 CNY cross-border limit", [("honey_big", 2)], {}, 422, "limit_exceeded", "lines"),
]


@pytest.mark.parametrize(("case", "lines", "address", "status", "code", "field"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_order_leaves_nothing_behind(api_as, buyer_cn, honey, apricots, phone, kz_seller,
                                                case, lines, address, status, code, field):
    products = {"honey": honey, "apricots": apricots, "phone": phone}
    products["draft"] = make_product(kz_seller.company, storefront="kz", price="10.00", title="Draft honey", hs_code="040900",
                                     category="honey", weight=300, status="draft")
    products["honey_big"] = make_product(kz_seller.company, storefront="kz", price="2900.00", title="Honey barrel",
                                         hs_code="040900", category="honey", weight=5000)
    from .conftest import book

    book("LHW", products["honey_big"], 2)
    before = _snapshot()
    body = order_body("kz", [(products[name], q) for name, q in lines], {**CN_ADDRESS, **address})

    response = api_as(buyer_cn).post(URL, body, format="json")

    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] == code
    if field:
        assert field in error["fields"], error
    assert _snapshot() == before


def test_only_buyers_place_orders(api_as, kz_seller, honey):
    response = api_as(kz_seller).post(URL, order_body("kz", [(honey, 1)]), format="json")
    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_a_replayed_placement_returns_the_first_order(api_as, buyer_cn, honey):
    client = api_as(buyer_cn)
    first = client.post(URL, order_body("kz", [(honey, 2)]), format="json", HTTP_IDEMPOTENCY_KEY="checkout-1")
    again = client.post(URL, order_body("kz", [(honey, 2)]), format="json", HTTP_IDEMPOTENCY_KEY="checkout-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replay"] == "true"
    assert Order.objects.count() == 1 and available(honey, "LHW") == 18


def _nothing_written():
    assert Order.objects.count() == 0 and Reservation.objects.count() == 0
    assert not TransitionEvent.objects.filter(machine="order").exists()


@pytest.mark.parametrize(("storefront", "id_number", "message"), [
    ("kz", None, "need the recipient's ID number"),                   # China: missing
    ("kz", CN_ID[:-1] + ("0" if CN_ID[-1] != "0" else "1"), "check digit"),  # China: a typo
    ("kz", KZ_IIN, "another country"),                                 # a Kazakh IIN for a parcel into China
    ("cn-kz", None, "need the recipient's ID number"),                # Kazakhstan: missing
    ("cn-kz", KZ_IIN[:-1] + str((int(KZ_IIN[-1]) + 1) % 10), "check digit"),
    ("cn-kz", CN_ID, "another country"),                               # a Chinese resident ID into Kazakhstan
])
def test_a_missing_or_wrong_recipient_id_is_a_field_error_and_writes_nothing(api_as, buyer_cn, buyer_kz, honey, phone,
                                                                             storefront, id_number, message):
    buyer, product = (buyer_cn, honey) if storefront == "kz" else (buyer_kz, phone)
    body = order_body(storefront, [(product, 1)])
    body["ship_to"].pop("id_number")
    if id_number is not None:
        body["ship_to"]["id_number"] = id_number

    response = api_as(buyer).post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert message in " ".join(error["fields"]["ship_to.id_number"])
    _nothing_written()


def test_the_recipient_id_is_kept_encrypted_and_only_shown_masked(api_as, buyer_kz, phone):
    response = api_as(buyer_kz).post(URL, order_body("cn-kz", [(phone, 1)]), format="json")

    assert response.status_code == 201
    order = Order.objects.get()
    assert response.json()["ship_to"]["id_number"] == "********" + KZ_IIN[-4:]
    assert KZ_IIN not in response.content.decode() and KZ_IIN not in order.ship_to_id_encrypted
    assert order.ship_to_id_masked == "********" + KZ_IIN[-4:]


def test_units_taken_from_elsewhere_than_previewed_are_quoted_where_they_are(api_as, buyer_kz, phone, monkeypatch):
    """The landed cost is computed before the transaction from where the units would come from; when
    another buyer takes those units meanwhile, the reservation lands elsewhere and the order is quoted
    again for where it did land: the same order as one placed without the race, nothing doubled."""
    from orders.services import checkout
    from warehouses.interface import ReservationLine

    fair = api_as(buyer_kz).post(URL, order_body("cn-kz", [(phone, 1)]), format="json").json()

    def stale_preview(*, lines, storefront_warehouses, buyer_country, refuse_short=False, read=None):
        # as if a released unit had been in Almaty a moment ago: the domestic road, no customs
        return [ReservationLine(sku_id=sku, warehouse="ALA", bond_status="released", quantity=qty) for sku, qty in lines]

    monkeypatch.setattr(checkout.warehouse_selectors, "allocation_preview", stale_preview)
    response = api_as(buyer_kz).post(URL, order_body("cn-kz", [(phone, 1)]), format="json")

    assert response.status_code == 201, response.json()
    raced = response.json()
    order = Order.objects.get(pk=raced["id"])
    assert order.road == "bond" and order.source_warehouse == "ALA" and order.regime == fair["landed_cost"]["regime"]
    assert raced["landed_cost"] == fair["landed_cost"] and raced["total"] == fair["total"]
    assert order.lines.count() == 1 and Reservation.objects.filter(reference=order.reference).count() == 1
    [event] = TransitionEvent.objects.filter(machine="order", object_id=order.pk)
    assert event.payload["road"] == "bond" and event.payload["warehouses"] == ["ALA"]
    assert available(phone, "ALA") == 8
