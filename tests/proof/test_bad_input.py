"""Bad input as a table: every row is a request that must be refused cleanly.

Each row of ``ROWS`` names the request (method, URL, body or files, who sends it), the 4xx status and
error ``code`` it must get, the field at fault where there is one (``error.fields[<field>]``), and the
tables whose row counts must not change. API answers carry the error envelope
``{"error": {"code", "message", "fields"}}``. Web forms (``kind="form"``) re-render the page with the
error at the field (200, or 400/422 as the page does), and write nothing either.

Covered: malformed JSON, wrong types, huge numbers (a quantity of 10**30, a price of 9,999,999,999,999),
zero and negative quantities, unknown currencies and countries, wrong HS codes, overlong strings,
Unicode edge cases (NUL bytes, bidirectional overrides U+202E, zero-width spaces, emoji, mixed
scripts) in names, addresses and search, wrong-currency payments, broken CSV files and rows of a
catalogue import, non-image and decompression-bomb uploads, unsigned, wrongly signed, stale and
replayed payment webhooks. The world of two owners is tests/proof/conftest.py.

Beside the table: legitimate Unicode (emoji, joiners, mixed and right-to-left scripts) is accepted
and kept exactly; odd text in every search box and odd values in every query parameter of every list
never give a 5xx; broken rows of an accepted CSV write nothing and are each reported at their column.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zlib
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile

from .conftest import ADDRESSES, png_bytes

pytestmark = pytest.mark.django_db

BIG = 10**30
HUGE_PRICE = "9999999999999.00"  # 9,999,999,999,999
RLO, ZWSP, NUL = "\u202e", "\u200b", "\x00"
WEBHOOK = "/api/v1/payments/webhooks/simulator/"

ORDERS = ("orders.Order", "orders.OrderLine", "warehouses.Reservation", "core.TransitionEvent")
MONEY = ("payments.Transaction", "payments.Entry", "payments.EscrowHold", "payments.Payout")
CATALOGUE = ("marketplace.Product", "marketplace.Listing", "warehouses.Sku", "marketplace.ProductImage")
IMPORTS = ("marketplace.CatalogueImport", "marketplace.Product")
WEBHOOKS = ("payments.ProviderEvent", "payments.Transaction", "payments.Entry")
SKU_FIELD = "sku"  # the API's name (the services say sku_code; the API renames it)
MESSAGES = "__messages__"  # a page that redirects back with the error as a message (Post/Redirect/Get)


def VALIDATION_OR(code: str) -> tuple:
    """The serializer's generic code or the domain's own: both name the field at fault."""
    return ("validation_error", code)


# --- files -----------------------------------------------------------------------------------


def bomb_png(width=100_000, height=100_000) -> bytes:
    """A few hundred bytes claiming 10 gigapixels: a valid PNG header and a tiny compressed stream."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 150), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def upload(data: bytes, name: str, content_type: str):
    return SimpleUploadedFile(name, data, content_type=content_type)


CSV_HEADER = "sku,category,hs_code,origin_country,net_weight_g,gross_weight_g,title_en,price_cn-kz"


def csv(text: str, name="catalogue.csv"):
    return upload(text.encode("utf-8") if isinstance(text, str) else text, name, "text/csv")


# --- request bodies --------------------------------------------------------------------------


def order(o, **changes):
    body = {"storefront": "cn-kz", "lines": [{"product": o["product"].pk, "quantity": 1}],
            "ship_to": dict(ADDRESSES["a"])}
    for key, value in changes.items():
        if key in body["ship_to"]:
            body["ship_to"][key] = value
        elif key in ("quantity", "product"):
            body["lines"][0][key] = value
        else:
            body[key] = value
    return body


def product(o, **changes):
    body = {"sku": "PROOF-NEW-1", "category": "phones", "hs_code": "851713", "origin_country": "CN",
            "net_weight_g": 300, "gross_weight_g": 350, "translations": {"en": {"title": "New phone", "description": ""}},
            "prices": {"cn-kz": {"amount": "100.00", "currency": "KZT"}}, "status": "draft"}
    for key, value in changes.items():
        if key == "title":
            body["translations"]["en"]["title"] = value
        elif key == "price":
            body["prices"]["cn-kz"] = value
        else:
            body[key] = value
    return body


def quote(o, **changes):
    line = {"hs_code": "040900", "description": "honey", "quantity": 1,
            "unit_price": {"amount": "50.00", "currency": "CNY"}, "weight_kg": "0.500"}
    body = {"origin_country": "KZ", "destination_country": "CN", "currency": "CNY", "lines": [line],
            "shipping": {"amount": "10.00", "currency": "CNY"}, "insurance": {"amount": "0.00", "currency": "CNY"}}
    for key, value in changes.items():
        (line if key in line else body)[key] = value
    return body


def money(amount, currency="KZT"):
    return {"amount": amount, "currency": currency}


def consignment(o, **changes):
    line = {"sku": o["product"].sku_id, "quantity": 5}
    body = {"warehouse": "ALA", "origin": "URC", "border_crossing": "BC-KHORGOS-ALTYNKOL", "lines": [line]}
    for key, value in changes.items():
        (line if key in ("sku", "quantity", "declared_value") else body)[key] = value
    return body


def product_form(**changes):
    return {"sku_code": "PROOF-FORM-1", "status": "draft", "category": "phones", "hs_code": "851713",
            "origin_country": "CN", "net_weight_g": "300", "title_en": "Form phone", "price_cn-kz": "100.00", **changes}


# --- webhooks --------------------------------------------------------------------------------


def _simulator():
    from django.conf import settings

    from payments.gateways.providers import SimulatorProvider

    return SimulatorProvider(settings.PAYMENT_WEBHOOK_SECRETS["simulator"])


def top_up_body(o, amount="10.00", currency="KZT", owner=None, event_id=None) -> bytes:
    return json.dumps({"id": event_id or f"evt_proof_{time.monotonic_ns()}", "type": "top_up.succeeded",
                       "data": {"owner": owner or f"user:{o['order'].buyer_id}",
                                "amount": {"amount": amount, "currency": currency}}}).encode()


def signed(body: bytes, *, secret=None, timestamp=None) -> dict:
    from payments.gateways.providers import Provider

    provider = Provider("simulator", secret) if secret else _simulator()
    return provider.sign(body, timestamp)


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    user: str  # "buyer", "seller", "operator", "broker" of side a; "buyer_b"; "anonymous"
    method: str
    url: str  # formatted with side a's objects ({product.pk}...) and {wh}
    body: object  # dict, bytes, or callable(objects) -> dict/bytes (or (headers, bytes) for webhooks)
    status: int | tuple
    code: str  # the API error code; "" for a form
    field: str | tuple | None  # error.fields[<field>] (API; "lines" matches "lines.0..."), the form field; None: none
    models: tuple  # "app.Model" whose row counts must not change
    kind: str = "json"  # json | raw (bytes as application/json) | multipart | form | webhook
    setup: object = None  # callable(world, client) run before the snapshot (a first webhook...)


def R(name, user, method, url, body, status, code, field, models, kind="json", setup=None):
    return Row(name, user, method, url, body, status, code, field, models, kind, setup)


def _replay_setup(world, client):
    """The first delivery of an event, accepted: the row then sends it again."""
    o = world.a.objects
    body = top_up_body(o, event_id="evt_proof_replayed")
    first = client.post(WEBHOOK, data=body, content_type="application/json", **_headers(signed(body)))
    assert first.status_code == 200, first.content
    return {"headers": signed(body), "body": body}


def checkout_form(**changes):
    return {**ADDRESSES["a"], **changes}


def _cart_with_one_phone(world, client):
    added = client.post("/cart/add/", {"product": world.a.objects["product"].pk, "storefront": "cn-kz", "quantity": "1"})
    assert added.status_code == 302 and added["Location"].endswith("/cart/"), added
    return {}


def _place_kzt_order_for_b(world, client):
    """Buyer b holds UZS only: an order of side a's product, in KZT."""
    from orders import services as orders

    placed = orders.order_place(buyer=world.b.buyer, storefront="cn-kz",
                                lines=[{"product": world.a.objects["product"].pk, "quantity": 1}],
                                ship_to=dict(ADDRESSES["a"]))
    return {"url": f"/api/v1/orders/{placed.pk}/pay/"}


ROWS = [
    # --- placing an order ---
    R("order: malformed JSON", "buyer", "POST", "/api/v1/orders/", b'{"storefront": "cn-kz", "lines": [',
      400, "parse_error", None, ORDERS, kind="raw"),
    R("order: a JSON list, not an object", "buyer", "POST", "/api/v1/orders/", b"[1, 2, 3]",
      400, "validation_error", None, ORDERS, kind="raw"),
    R("order: lines is a string", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, lines="two phones"),
      400, "validation_error", "lines", ORDERS),
    R("order: quantity is a word", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, quantity="two"),
      400, "validation_error", "lines.0.quantity", ORDERS),
    R("order: quantity 10**30", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, quantity=BIG),
      400, "validation_error", "lines.0.quantity", ORDERS),
    R("order: quantity 0", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, quantity=0),
      400, "validation_error", "lines.0.quantity", ORDERS),
    R("order: quantity -3", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, quantity=-3),
      400, "validation_error", "lines.0.quantity", ORDERS),
    R("order: quantity 2.5", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, quantity=2.5),
      400, "validation_error", "lines.0.quantity", ORDERS),
    R("order: product id 10**30", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, product=BIG),
      400, "validation_error", "lines.0.product", ORDERS),
    R("order: unknown storefront", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, storefront="zz-top"),
      400, "validation_error", "storefront", ORDERS),
    R("order: unknown country", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, country="XX"),
      400, "validation_error", "ship_to.country", ORDERS),
    R("order: country not served by the storefront", "buyer", "POST", "/api/v1/orders/",
      lambda o: order(o, country="US"), 400, "validation_error", "ship_to.country", ORDERS),
    R("order: overlong address", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, address="x" * 301),
      400, "validation_error", "ship_to.address", ORDERS),
    R("order: NUL byte in the name", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, name=f"Ai{NUL}gerim"),
      400, "validation_error", "ship_to.name", ORDERS),
    R("order: right-to-left override in the name", "buyer", "POST", "/api/v1/orders/",
      lambda o: order(o, name=f"Aigerim {RLO}gnp.exe"), 400, "validation_error", "ship_to.name", ORDERS),
    R("order: zero-width space in the address", "buyer", "POST", "/api/v1/orders/",
      lambda o: order(o, address=f"Abay{ZWSP} Ave 10"), 400, "validation_error", "ship_to.address", ORDERS),
    R("order: phone of letters", "buyer", "POST", "/api/v1/orders/", lambda o: order(o, phone="call me maybe"),
      400, "validation_error", "ship_to.phone", ORDERS),
    # --- paying: in a currency the wallet does not hold ---
    R("pay: a KZT order from a UZS-only wallet", "buyer_b", "POST", "{url}", None,
      409, "insufficient_funds", None, MONEY + ("customs.AllowanceUse",), setup=_place_kzt_order_for_b),
    # --- returns ---
    R("return: more than delivered", "buyer", "POST", "/api/v1/orders/{order.pk}/returns/",
      lambda o: {"lines": [{"line": o["line"].pk, "quantity": 5}], "reason": "defective"},
      400, "validation_error", "lines.0.quantity", ("orders.Return", "orders.ReturnLine")),
    R("return: quantity 10**30", "buyer", "POST", "/api/v1/orders/{order.pk}/returns/",
      lambda o: {"lines": [{"line": o["line"].pk, "quantity": BIG}], "reason": "defective"},
      400, "validation_error", "lines.0.quantity", ("orders.Return", "orders.ReturnLine")),
    R("return: quantity 0", "buyer", "POST", "/api/v1/orders/{order.pk}/returns/",
      lambda o: {"lines": [{"line": o["line"].pk, "quantity": 0}], "reason": "defective"},
      400, "validation_error", "lines.0.quantity", ("orders.Return", "orders.ReturnLine")),
    R("return: unknown reason", "buyer", "POST", "/api/v1/orders/{order.pk}/returns/",
      lambda o: {"lines": [{"line": o["line"].pk, "quantity": 1}], "reason": "bored"},
      400, "validation_error", "reason", ("orders.Return", "orders.ReturnLine")),
    # --- products ---
    R("product: malformed JSON", "seller", "POST", "/api/v1/products/", b'{"sku": "X", ', 400, "parse_error", None,
      CATALOGUE, kind="raw"),
    R("product: price 9,999,999,999,999", "seller", "POST", "/api/v1/products/",
      lambda o: product(o, price=money(HUGE_PRICE)), 400, "invalid_amount", "prices.cn-kz", CATALOGUE),
    R("product: negative price", "seller", "POST", "/api/v1/products/", lambda o: product(o, price=money("-1.00")),
      400, "invalid_amount", "prices.cn-kz", CATALOGUE),
    R("product: price as a float", "seller", "POST", "/api/v1/products/",
      lambda o: product(o, price={"amount": 100.5, "currency": "KZT"}), 400, "validation_error", "prices.cn-kz",
      CATALOGUE),
    R("product: unknown currency", "seller", "POST", "/api/v1/products/", lambda o: product(o, price=money("1.00", "XYZ")),
      400, VALIDATION_OR("unknown_currency"), "prices.cn-kz", CATALOGUE),
    R("product: price in another currency than the storefront's", "seller", "POST", "/api/v1/products/",
      lambda o: product(o, price=money("100.00", "CNY")), 400, "currency_mismatch", "prices.cn-kz", CATALOGUE),
    R("product: HS code of 5 digits", "seller", "POST", "/api/v1/products/", lambda o: product(o, hs_code="85171"),
      400, "invalid_hs_code", "hs_code", CATALOGUE),
    R("product: HS code of letters", "seller", "POST", "/api/v1/products/", lambda o: product(o, hs_code="ABCDEF"),
      400, "invalid_hs_code", "hs_code", CATALOGUE),
    R("product: HS code not in the nomenclature", "seller", "POST", "/api/v1/products/",
      lambda o: product(o, hs_code="999999"), 400, "invalid_hs_code", "hs_code", CATALOGUE),
    R("product: unknown origin country", "seller", "POST", "/api/v1/products/",
      lambda o: product(o, origin_country="XX"), 400, "unknown_country", "origin_country", CATALOGUE),
    R("product: weight 10**30 g", "seller", "POST", "/api/v1/products/", lambda o: product(o, net_weight_g=BIG),
      400, "validation_error", "net_weight_g", CATALOGUE),
    R("product: negative weight", "seller", "POST", "/api/v1/products/", lambda o: product(o, net_weight_g=-5),
      400, "validation_error", "net_weight_g", CATALOGUE),
    R("product: overlong title", "seller", "POST", "/api/v1/products/", lambda o: product(o, title="T" * 1000),
      400, "validation_error", "translations.en.title", CATALOGUE),
    R("product: NUL byte in the title", "seller", "POST", "/api/v1/products/",
      lambda o: product(o, title=f"Phone{NUL}X"), 400, "validation_error", "translations.en.title", CATALOGUE),
    R("product: right-to-left override in the title", "seller", "POST", "/api/v1/products/",
      lambda o: product(o, title=f"Phone {RLO}gpj.exe"), 400, "validation_error", "translations.en.title", CATALOGUE),
    R("product: overlong SKU", "seller", "POST", "/api/v1/products/", lambda o: product(o, sku="S" * 200),
      400, "validation_error", SKU_FIELD, CATALOGUE),
    R("product: an SKU the company already uses", "seller", "POST", "/api/v1/products/",
      lambda o: product(o, sku=o["product"].sku_code), (400, 409), "duplicate_sku", SKU_FIELD, CATALOGUE),
    R("product: SKU with a zero-width space", "seller", "POST", "/api/v1/products/",
      lambda o: product(o, sku=f"PROOF{ZWSP}1"), 400, "validation_error", SKU_FIELD, CATALOGUE),
    # --- product photos ---
    R("photo: a text file named .png", "seller", "POST", "/api/v1/products/{product.pk}/images/",
      lambda o: {"image": upload(b"just some notes, not a picture", "notes.png", "image/png")},
      400, "invalid_image", "image", CATALOGUE, kind="multipart"),
    R("photo: a decompression bomb (100,000 x 100,000 px in a few hundred bytes)", "seller", "POST",
      "/api/v1/products/{product.pk}/images/", lambda o: {"image": upload(bomb_png(), "bomb.png", "image/png")},
      400, "invalid_image", "image", CATALOGUE, kind="multipart"),
    R("photo: a truncated JPEG", "seller", "POST", "/api/v1/products/{product.pk}/images/",
      lambda o: {"image": upload(jpeg_bytes()[:300], "cut.jpg", "image/jpeg")},
      400, "invalid_image", "image", CATALOGUE, kind="multipart"),
    R("photo: an empty file", "seller", "POST", "/api/v1/products/{product.pk}/images/",
      lambda o: {"image": upload(b"", "empty.jpg", "image/jpeg")}, 400, "invalid_image", "image", CATALOGUE,
      kind="multipart"),
    R("photo: no file at all", "seller", "POST", "/api/v1/products/{product.pk}/images/", {},
      400, "invalid_image", "image", CATALOGUE, kind="multipart"),
    # --- catalogue imports: broken CSV files ---
    R("import: an empty file", "seller", "POST", "/api/v1/imports/", lambda o: {"file": csv("")},
      400, "invalid_file", "file", IMPORTS, kind="multipart"),
    R("import: a header and no rows", "seller", "POST", "/api/v1/imports/", lambda o: {"file": csv(CSV_HEADER + "\r\n")},
      400, "invalid_file", "file", IMPORTS, kind="multipart"),
    R("import: required columns missing", "seller", "POST", "/api/v1/imports/",
      lambda o: {"file": csv("sku,title_en\r\nA-1,Phone\r\n")}, 400, "invalid_file", "file", IMPORTS,
      kind="multipart"),
    R("import: binary junk named .csv", "seller", "POST", "/api/v1/imports/",
      lambda o: {"file": csv(bytes(range(256)) * 4)}, 400, "invalid_file", "file", IMPORTS, kind="multipart"),
    R("import: a PNG named .csv", "seller", "POST", "/api/v1/imports/", lambda o: {"file": csv(png_bytes())},
      400, "invalid_file", "file", IMPORTS, kind="multipart"),
    # A quote left open would swallow every row after it into one cell: the file is refused, naming the row.
    R("import: a quote left open", "seller", "POST", "/api/v1/imports/",
      lambda o: {"file": csv(f"{CSV_HEADER}\r\nPROOF-Q-1,phones,851713,CN,300,350,Phone,10.00\r\n"
                             'PROOF-Q-2,phones,851713,CN,300,350,"an open quote,10.00\r\n'
                             "PROOF-Q-3,phones,851713,CN,300,350,Phone,10.00\r\n")},
      400, "invalid_file", "file", IMPORTS, kind="multipart"),
    R("import: text after a closing quote", "seller", "POST", "/api/v1/imports/",
      lambda o: {"file": csv(f'{CSV_HEADER}\r\nPROOF-Q-4,phones,851713,CN,300,350,"Phone"X,10.00\r\n')},
      400, "invalid_file", "file", IMPORTS, kind="multipart"),
    R("import: no file", "seller", "POST", "/api/v1/imports/", {}, 400, "invalid_file", "file", IMPORTS,
      kind="multipart"),
    R("import: photos that are not a ZIP", "seller", "POST", "/api/v1/imports/",
      lambda o: {"file": csv(f"{CSV_HEADER}\r\nPROOF-IMP-9,phones,851713,CN,300,350,Phone,10.00\r\n"),
                 "images": upload(b"not a zip", "photos.zip", "application/zip")},
      400, "invalid_file", "images", IMPORTS, kind="multipart"),
    # --- customs quote ---
    R("quote: unknown currency", "buyer", "POST", "/api/v1/customs/quote/", lambda o: quote(o, currency="XYZ"),
      400, "unknown_currency", "currency", ()),
    R("quote: unknown destination country", "buyer", "POST", "/api/v1/customs/quote/",
      lambda o: quote(o, destination_country="XX"), 400, "unknown_country", "destination_country", ()),
    R("quote: HS code of 2 digits", "buyer", "POST", "/api/v1/customs/quote/", lambda o: quote(o, hs_code="04"),
      400, "invalid_hs_code", "lines.0.hs_code", ()),
    R("quote: HS code not in the nomenclature", "buyer", "POST", "/api/v1/customs/quote/",
      lambda o: quote(o, hs_code="999999"), 400, "invalid_hs_code", "lines.0.hs_code", ()),
    R("quote: quantity 10**30", "buyer", "POST", "/api/v1/customs/quote/", lambda o: quote(o, quantity=BIG),
      400, "validation_error", "lines.0.quantity", ()),
    R("quote: quantity 0", "buyer", "POST", "/api/v1/customs/quote/", lambda o: quote(o, quantity=0),
      400, "validation_error", "lines.0.quantity", ()),
    # Refused by the buyer's yearly allowance (or the amount bound), at the field that decides.
    R("quote: price 9,999,999,999,999", "buyer", "POST", "/api/v1/customs/quote/",
      lambda o: quote(o, unit_price=money(HUGE_PRICE, "CNY")), (400, 422), ("invalid_amount", "limit_exceeded"),
      ("lines.0.unit_price", "buyer"), ()),
    R("quote: negative weight", "buyer", "POST", "/api/v1/customs/quote/", lambda o: quote(o, weight_kg="-1.000"),
      400, "validation_error", "lines.0.weight_kg", ()),
    # --- wallets ---
    R("convert: unknown target currency", "buyer", "POST", "/api/v1/wallets/convert/",
      {"amount": money("10.00"), "to_currency": "XYZ"}, 400, "unknown_currency", "to_currency", MONEY),
    R("convert: unknown source currency", "buyer", "POST", "/api/v1/wallets/convert/",
      {"amount": money("10.00", "XYZ"), "to_currency": "CNY"}, 400, VALIDATION_OR("unknown_currency"), "amount", MONEY),
    R("convert: negative amount", "buyer", "POST", "/api/v1/wallets/convert/",
      {"amount": money("-10.00"), "to_currency": "CNY"}, 400, "invalid_amount", "amount", MONEY),
    R("convert: 9,999,999,999,999", "buyer", "POST", "/api/v1/wallets/convert/",
      {"amount": money(HUGE_PRICE), "to_currency": "CNY"}, (400, 409), ("invalid_amount", "insufficient_funds"),
      "amount", MONEY),
    R("convert: from a currency the wallet does not hold", "buyer", "POST", "/api/v1/wallets/convert/",
      {"amount": money("10.00", "CNY"), "to_currency": "KZT"}, 409, "insufficient_funds", "amount", MONEY),
    R("payout: in a currency the company does not hold", "seller", "POST", "/api/v1/payouts/",
      {"amount": money("10.00", "CNY")}, 409, "insufficient_funds", "amount", MONEY),
    R("payout: negative", "seller", "POST", "/api/v1/payouts/", {"amount": money("-10.00")},
      400, VALIDATION_OR("invalid_amount"), "amount", MONEY),
    R("payout: 9,999,999,999,999", "seller", "POST", "/api/v1/payouts/", {"amount": money(HUGE_PRICE)},
      (400, 409), ("invalid_amount", "insufficient_funds"), "amount", MONEY),
    # --- stock ---
    R("consignment: quantity 10**30", "seller", "POST", "/api/v1/consignments/",
      lambda o: consignment(o, quantity=BIG), 400, "validation_error", "lines.0.quantity",
      ("warehouses.Consignment", "warehouses.ConsignmentLine")),
    R("consignment: quantity -5", "seller", "POST", "/api/v1/consignments/", lambda o: consignment(o, quantity=-5),
      400, "validation_error", "lines.0.quantity", ("warehouses.Consignment", "warehouses.ConsignmentLine")),
    R("consignment: unknown warehouse", "seller", "POST", "/api/v1/consignments/",
      lambda o: consignment(o, warehouse="ZZZ"), 400, "unknown_warehouse", "warehouse",
      ("warehouses.Consignment", "warehouses.ConsignmentLine")),
    R("consignment: declared value in an unknown currency", "seller", "POST", "/api/v1/consignments/",
      lambda o: consignment(o, declared_value=money("10.00", "XYZ")), 400, VALIDATION_OR("unknown_currency"),
      "lines.0.declared_value", ("warehouses.Consignment", "warehouses.ConsignmentLine")),
    R("adjustment: quantity 10**30", "operator", "POST", "/api/v1/warehouses/{wh}/adjustments/",
      lambda o: {"sku": o["product"].sku_id, "bond_status": "released", "quantity": BIG, "reason": "count"},
      400, "validation_error", "quantity", ("warehouses.Movement",)),
    R("adjustment: unknown reason", "operator", "POST", "/api/v1/warehouses/{wh}/adjustments/",
      lambda o: {"sku": o["product"].sku_id, "bond_status": "released", "quantity": 1, "reason": "gift"},
      400, "validation_error", "reason", ("warehouses.Movement",)),
    # --- search ---
    R("search: a NUL byte", "anonymous", "GET", f"/api/v1/products/?q=pho{NUL}ne", None,
      400, "validation_error", "q", ()),
    R("search: page_size 10**30", "anonymous", "GET", f"/api/v1/products/?page_size={BIG}", None,
      400, "validation_error", "page_size", ()),
    # --- payment webhooks ---
    R("webhook: unsigned", "anonymous", "POST", WEBHOOK, lambda o: ({}, top_up_body(o)),
      401, "webhook_signature_invalid", "X-Karavan-Signature", WEBHOOKS, kind="webhook"),
    R("webhook: signed with another secret", "anonymous", "POST", WEBHOOK,
      lambda o: (signed(body := top_up_body(o), secret="not-the-secret"), body),
      401, "webhook_signature_invalid", "X-Karavan-Signature", WEBHOOKS, kind="webhook"),
    R("webhook: body changed after signing", "anonymous", "POST", WEBHOOK,
      lambda o: (signed(top_up_body(o, event_id="evt_t")), top_up_body(o, amount="99999.00", event_id="evt_t")),
      401, "webhook_signature_invalid", "X-Karavan-Signature", WEBHOOKS, kind="webhook"),
    R("webhook: a timestamp that is not a number", "anonymous", "POST", WEBHOOK,
      lambda o: ({**signed(body := top_up_body(o)), "X-Karavan-Timestamp": "yesterday"}, body),
      401, "webhook_signature_invalid", "X-Karavan-Signature", WEBHOOKS, kind="webhook"),
    R("webhook: stale (signed 10 minutes ago)", "anonymous", "POST", WEBHOOK,
      lambda o: (signed(body := top_up_body(o), timestamp=int(time.time()) - 600), body),
      401, "webhook_stale", "X-Karavan-Timestamp", WEBHOOKS, kind="webhook"),
    R("webhook: replayed", "anonymous", "POST", WEBHOOK, lambda o: None,
      409, "webhook_replayed", "id", WEBHOOKS, kind="webhook", setup=_replay_setup),
    R("webhook: signed, body not JSON", "anonymous", "POST", WEBHOOK, lambda o: (signed(b"{oops"), b"{oops"),
      400, "parse_error", None, WEBHOOKS, kind="webhook"),
    R("webhook: signed, unknown currency", "anonymous", "POST", WEBHOOK,
      lambda o: (signed(body := top_up_body(o, currency="XYZ")), body),
      400, "unknown_currency", "data.amount", WEBHOOKS, kind="webhook"),
    R("webhook: signed, negative amount", "anonymous", "POST", WEBHOOK,
      lambda o: (signed(body := top_up_body(o, amount="-5.00")), body),
      400, "invalid_amount", ("data.amount", "amount"), WEBHOOKS, kind="webhook"),
    R("webhook: signed, huge amount", "anonymous", "POST", WEBHOOK,
      lambda o: (signed(body := top_up_body(o, amount=HUGE_PRICE + "0000")), body),
      400, "invalid_amount", ("data.amount", "amount"), WEBHOOKS, kind="webhook"),
    R("webhook: signed, unknown owner", "anonymous", "POST", WEBHOOK,
      lambda o: (signed(body := top_up_body(o, owner="user:999999999")), body),
      400, "validation_error", ("data.owner", "owner"), WEBHOOKS, kind="webhook"),
    R("webhook: unknown provider", "anonymous", "POST", "/api/v1/payments/webhooks/nobody/",
      lambda o: (signed(body := top_up_body(o)), body), 404, "not_found", None, WEBHOOKS, kind="webhook"),
    # --- web forms: re-rendered with the error at the field, nothing written ---
    R("form: product price 9,999,999,999,999", "seller", "POST", "/seller/products/new/",
      product_form(**{"price_cn-kz": "9999999999999"}), (200, 400, 422), "", "price_cn-kz", CATALOGUE, kind="form"),
    R("form: product HS code of 5 digits", "seller", "POST", "/seller/products/new/", product_form(hs_code="85171"),
      (200, 400, 422), "", "hs_code", CATALOGUE, kind="form"),
    R("form: product unknown origin country", "seller", "POST", "/seller/products/new/",
      product_form(origin_country="XX"), (200, 400, 422), "", "origin_country", CATALOGUE, kind="form"),
    R("form: product weight 10**30", "seller", "POST", "/seller/products/new/", product_form(net_weight_g=str(BIG)),
      (200, 400, 422), "", "net_weight_g", CATALOGUE, kind="form"),
    R("form: product title with a NUL byte", "seller", "POST", "/seller/products/new/",
      product_form(title_en=f"Form{NUL}phone"), (200, 400, 422), "", "title_en", CATALOGUE, kind="form"),
    R("form: product title with a right-to-left override", "seller", "POST", "/seller/products/new/",
      product_form(title_en=f"Form {RLO}gpj.exe"), (200, 400, 422), "", "title_en", CATALOGUE, kind="form"),
    R("form: product photo that is a decompression bomb", "seller", "POST", "/seller/products/new/",
      lambda o: {**product_form(), "photos": upload(bomb_png(), "bomb.png", "image/png")},
      (200, 400, 422), "", "photos", CATALOGUE, kind="form"),
    R("form: photo upload that is not an image", "seller", "POST", "/seller/products/{draft.pk}/photos/",
      lambda o: {"image": upload(b"%PDF-1.4 not a photo", "doc.jpg", "image/jpeg")},
      (200, 400, 422), "", "image", CATALOGUE, kind="form"),
    R("form: convert a negative amount", "buyer", "POST", "/wallet/KZT/convert/",
      {"amount": "-10.00", "to_currency": "CNY"}, (200, 400, 422), "", "amount", MONEY, kind="form"),
    R("form: convert 9,999,999,999,999", "buyer", "POST", "/wallet/KZT/convert/",
      {"amount": "9999999999999", "to_currency": "CNY"}, (200, 400, 422), "", "amount", MONEY, kind="form"),
    R("form: convert into an unknown currency", "buyer", "POST", "/wallet/KZT/convert/",
      {"amount": "10.00", "to_currency": "XYZ"}, (200, 400, 422), "", "to_currency", MONEY, kind="form"),
    R("form: payout of more than the wallet holds", "seller", "POST", "/wallet/KZT/payout/",
      {"amount": "99999999.00"}, (200, 400, 422), "", "amount", MONEY, kind="form"),
    R("form: stock adjustment of 10**30", "operator", "POST", "/warehouses/{wh}/levels/{level.pk}/adjust/",
      {"quantity": str(BIG), "reason": "count", "note": ""}, (200, 400, 422), "", "quantity",
      ("warehouses.Movement",), kind="form"),
    R("form: checkout name with a right-to-left override", "buyer", "POST", "/checkout/",
      checkout_form(name=f"Aigerim {RLO}gnp.exe"), (200, 400, 422), "", "name", ORDERS, kind="form",
      setup=_cart_with_one_phone),
    R("form: checkout city with a zero-width space", "buyer", "POST", "/checkout/", checkout_form(city=f"Alm{ZWSP}aty"),
      (200, 400, 422), "", "city", ORDERS, kind="form", setup=_cart_with_one_phone),
    R("form: checkout address with a NUL byte", "buyer", "POST", "/checkout/",
      checkout_form(address=f"Abay Ave{NUL} 10"), (200, 400, 422), "", "address", ORDERS, kind="form",
      setup=_cart_with_one_phone),
    R("form: checkout overlong address", "buyer", "POST", "/checkout/", checkout_form(address="x" * 301),
      (200, 400, 422), "", "address", ORDERS, kind="form", setup=_cart_with_one_phone),
    R("form: checkout to a country the storefront does not serve", "buyer", "POST", "/checkout/",
      checkout_form(country="US"), (200, 400, 422), "", "country", ORDERS, kind="form", setup=_cart_with_one_phone),
    R("form: add 10**30 units to the cart", "buyer", "POST", "/cart/add/",
      lambda o: {"product": o["product"].pk, "storefront": "cn-kz", "quantity": str(BIG)}, (200, 400, 422), "",
      MESSAGES, ORDERS, kind="form"),
    R("form: add -1 units to the cart", "buyer", "POST", "/cart/add/",
      lambda o: {"product": o["product"].pk, "storefront": "cn-kz", "quantity": "-1"}, (200, 400, 422), "",
      MESSAGES, ORDERS, kind="form"),
    R("form: customs document that is not a PDF or image", "broker", "POST", "/customs/{declaration.pk}/documents/",
      lambda o: {"kind": "invoice", "file": upload(b"MZ\x90\x00 an executable", "invoice.pdf", "application/pdf")},
      (200, 400, 422), "", MESSAGES, ("customs.DeclarationDocument",), kind="form"),
]


# --- running a row ---------------------------------------------------------------------------


def _headers(headers: dict) -> dict:
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}


def _user(world, who: str):
    if who == "anonymous":
        return None
    if who == "broker":
        return world.broker
    role, _, key = who.partition("_")
    return getattr(world.side(key or "a"), role)


def _counts(models: tuple) -> dict:
    return {label: apps.get_model(label).objects.count() for label in models}


def _form_errors(response) -> dict:
    """The errors of every bound form (and formset) the page was rendered with, by field, and the
    error messages it shows (under MESSAGES)."""
    from django.contrib.messages import constants
    from django.forms import BaseForm, BaseFormSet

    out: dict = {}
    contexts = response.context if isinstance(response.context, list) else [response.context]
    for context in filter(None, contexts):
        for value in context.flatten().values():
            forms = value.forms if isinstance(value, BaseFormSet) else [value] if isinstance(value, BaseForm) else []
            for form in forms:
                if form.is_bound:
                    for name, errors in form.errors.items():
                        out.setdefault(name, []).extend(errors)
        for message in context.get("messages") or []:
            if message.level == constants.ERROR:
                out.setdefault(MESSAGES, []).append(str(message))
    return out


def _has_field(fields: dict, wanted) -> bool:
    names = wanted if isinstance(wanted, tuple) else (wanted,)
    return any(fields.get(key) for key in fields for name in names if key == name or key.startswith(name + "."))


def _send(client, row: Row, url: str, body):
    if row.kind == "raw":
        return client.generic(row.method, url, body, content_type="application/json")
    if row.kind == "webhook":
        headers, data = body
        return client.post(url, data=data, content_type="application/json", **_headers(headers))
    if row.method == "GET":
        return client.get(url)
    if row.kind == "form":
        return client.post(url, body, follow=True)
    return client.generic(row.method, url, json.dumps(body), content_type="application/json") if row.kind == "json" \
        else client.post(url, body)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_bad_input_is_refused_and_writes_nothing(world, row, client_as):
    o = world.a.objects
    client = client_as(_user(world, row.user))
    extra = row.setup(world, client) if row.setup else {}
    url = row.url.format(**o, wh=world.a.warehouse, **{k: v for k, v in extra.items() if k == "url"})
    body = row.body(o) if callable(row.body) else row.body
    if row.kind == "webhook" and body is None:
        body = (extra["headers"], extra["body"])
    before = _counts(row.models)

    response = _send(client, row, url, body)

    statuses = row.status if isinstance(row.status, tuple) else (row.status,)
    assert response.status_code in statuses, (row.name, response.status_code, response.content[:600])
    if row.kind == "form":
        errors = _form_errors(response)
        assert _has_field(errors, row.field), (row.name, errors)
    else:
        error = response.json()["error"]
        codes = row.code if isinstance(row.code, tuple) else (row.code,)
        assert error["code"] in codes, (row.name, error)
        assert isinstance(error["message"], str) and error["message"], (row.name, error)
        assert isinstance(error["fields"], dict), (row.name, error)
        if row.field is not None:
            assert _has_field(error["fields"], row.field), (row.name, error)
    assert _counts(row.models) == before, (row.name, "wrote rows")


# --- Unicode that is not bad input: accepted and read back exactly -------------------------------

GOOD_TEXT = [
    ("emoji", "Honey \U0001F36F jar"),
    ("an emoji sequence with joiners", "Family pack \U0001F468\u200D\U0001F469\u200D\U0001F467"),
    ("mixed scripts", "Алматы Almaty 阿拉木图 Алмати"),
    ("Kazakh and Uzbek letters", "Әлихан Қасымұлы, Oʻzbekiston"),
    ("Persian with a zero-width non-joiner", "می\u200Cخواهم"),
    ("Arabic, right to left without controls", "عسل جبلي"),
]


@pytest.mark.parametrize(("label", "text"), GOOD_TEXT, ids=[g[0] for g in GOOD_TEXT])
def test_legitimate_unicode_is_accepted_and_kept_exactly(world, client_as, label, text):
    """The refusals above are about invisible and control characters only: names and titles in any
    script, emoji included, go through and come back unchanged."""
    client = client_as(world.a.seller)
    response = client.post("/api/v1/products/", json.dumps(product(world.a.objects, title=text, sku="PROOF-U-1")),
                           content_type="application/json")
    assert response.status_code == 201, response.content[:500]
    assert response.json()["translations"]["en"]["title"] == text
    placed = client_as(world.a.buyer).post("/api/v1/orders/", json.dumps(order(world.a.objects, name=text[:150])),
                                           content_type="application/json")
    assert placed.status_code == 201, placed.content[:500]
    assert placed.json()["ship_to"]["name"] == text[:150]


SEARCH_BOXES = [("seller", "/warehouses/consignments/skus/"), ("seller", "/seller/hs-codes/"),
                ("seller", "/seller/products/"), ("seller", "/seller/orders/"), ("seller", "/seller/returns/"),
                ("seller", "/seller/imports/"), ("operator", "/warehouses/{wh}/"), ("operator", "/warehouses/{wh}/movements/"),
                ("operator", "/operator/returns/"), ("broker", "/customs/"), ("buyer", "/orders/"),
                ("buyer", "/wallet/KZT/")]
SEARCHES = [f"pho{RLO}ne", f"pho{ZWSP}ne", "\U0001F4F1", "телефон phone 手机", "a" * 10_000, "'; DROP TABLE--",
            "%_\\", "\uFFFF\uFFFE", "\ud7ff", f"pho{NUL}ne"]


@pytest.mark.parametrize("q", SEARCHES, ids=["rtl", "zero-width", "emoji", "mixed", "10k", "sql", "like", "nonchar",
                                              "edge", "nul"])
def test_search_survives_odd_unicode(world, client_as, q):
    """Search is read-only: odd text finds nothing or something, never a 5xx, on the API and the page."""
    for url in ("/api/v1/products/", "/s/cn-kz/", "/"):
        response = client_as(None).get(url, {"q": q})
        assert response.status_code in (200, 400), (url, response.status_code)
        if response.status_code == 400 and url.startswith("/api/"):
            assert response.json()["error"]["fields"]
    # The search boxes of the portals, each with the query in every parameter it reads.
    for who, url in SEARCH_BOXES:
        user = world.broker if who == "broker" else getattr(world.a, who)
        response = client_as(user).get(url.format(wh=world.a.warehouse), {"q": q, "sku": q, "search": q})
        assert response.status_code in (200, 400), (who, url, response.status_code)


# --- broken CSV rows: the file is accepted, the broken rows write nothing and are reported ---------

BROKEN_ROWS = [
    ("price_cn-kz", "PROOF-R-1,phones,851713,CN,300,350,Phone,abc"),
    ("price_cn-kz", f"PROOF-R-2,phones,851713,CN,300,350,Phone,{HUGE_PRICE}"),
    ("price_cn-kz", "PROOF-R-3,phones,851713,CN,300,350,Phone,-5.00"),
    ("hs_code", "PROOF-R-4,phones,85171,CN,300,350,Phone,10.00"),
    ("hs_code", "PROOF-R-5,phones,999999,CN,300,350,Phone,10.00"),
    ("origin_country", "PROOF-R-6,phones,851713,XX,300,350,Phone,10.00"),
    ("net_weight_g", f"PROOF-R-7,phones,851713,CN,{BIG},350,Phone,10.00"),
    ("net_weight_g", "PROOF-R-8,phones,851713,CN,-300,350,Phone,10.00"),
    ("title_en", f"PROOF-R-9,phones,851713,CN,300,350,Phone {RLO}gpj.exe,10.00"),
    ("sku", f"PROOF{ZWSP}R-10,phones,851713,CN,300,350,Phone,10.00"),
    ("category", "PROOF-R-11,no-such-category,851713,CN,300,350,Phone,10.00"),
    ("", "PROOF-R-12,phones,851713"),  # a short row
]


def test_broken_csv_rows_write_nothing_and_each_is_reported(world, client_as):
    from marketplace import services
    from marketplace.models import CatalogueImport, Product

    rows = [row for _, row in BROKEN_ROWS]
    response = client_as(world.a.seller).post("/api/v1/imports/", {"file": csv("\r\n".join([CSV_HEADER, *rows]) + "\r\n")})
    assert response.status_code == 202, response.content[:500]
    before = Product.objects.count()
    done = services.catalogue_import_run(import_id=response.json()["id"])  # what the worker does, inline
    assert done.status == CatalogueImport.Status.DONE, (done.status, done.errors if hasattr(done, "errors") else "")
    assert Product.objects.count() == before, ("a broken row wrote a product", list(
        Product.objects.order_by("-pk").values_list("sku_code", flat=True)[:2]))
    assert not Product.objects.filter(sku_code__startswith="PROOF").exclude(sku_code__startswith="PROOF-NEW").exists()
    errors = client_as(world.a.seller).get(f"/api/v1/imports/{done.pk}/errors/").json()
    reported = {}
    for error in errors:
        reported.setdefault(error["row"], set()).add(error["column"])
    assert done.rows_failed == len(BROKEN_ROWS), (done.rows_failed, errors)
    for number, (column, _) in enumerate(BROKEN_ROWS, start=2):  # row 1 is the header
        assert number in reported, (number, column, errors)
        if column:
            assert column in reported[number], (number, column, reported[number])


# Every list page and endpoint with the query parameters it (or a neighbour) reads.
LIST_PAGES = [*SEARCH_BOXES, ("buyer", "/"), ("buyer", "/s/cn-kz/"), ("seller", "/seller/"),
              ("operator", "/warehouses/{wh}/transfers/"), ("operator", "/warehouses/{wh}/consignments/"),
              ("operator", "/warehouses/{wh}/picking/"), ("seller", "/warehouses/consignments/"),
              ("buyer", "/api/v1/orders/"), ("seller", "/api/v1/returns/"), ("broker", "/api/v1/customs/declarations/"),
              ("operator", "/api/v1/warehouses/{wh}/stock/"), ("operator", "/api/v1/warehouses/{wh}/movements/"),
              ("seller", "/api/v1/consignments/"), ("seller", "/api/v1/imports/"), ("buyer", "/api/v1/fx-rates/"),
              ("buyer", "/api/v1/storefronts/"), ("seller", "/api/v1/payouts/"),
              ("buyer", "/api/v1/wallets/KZT/statement/"), ("anonymous", "/api/v1/products/")]
PARAMS = ("q", "status", "kind", "company", "page", "cursor", "storefront", "category", "date_from", "stock_page",
          "warehouse", "page_size")


@pytest.mark.parametrize("value", [f"-1{NUL}{RLO}", "9" * 40], ids=["nul-rtl", "huge"])
def test_odd_query_parameters_never_give_a_5xx(world, client_as, value):
    """A NUL byte (PostgreSQL text cannot hold one) with a bidi override, or a 40-digit number, in any
    query parameter of any list: a page or a 4xx, never a server error."""
    failures = []
    for who, url in LIST_PAGES:
        client = client_as(None if who == "anonymous" else world.broker if who == "broker" else getattr(world.a, who))
        client.raise_request_exception = False
        for param in PARAMS:
            response = client.get(url.format(wh=world.a.warehouse), {param: value})
            if response.status_code >= 500:
                failures.append((url, param, response.status_code))
    assert not failures, failures
