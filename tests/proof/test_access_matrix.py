"""Access as a table: every role against every other owner's objects, on every endpoint and page.

The world (tests/proof/conftest.py) has two sides, "a" and "b", each with a buyer, a seller's company,
a warehouse with its operator and one object of every kind; a broker and a staff user are shared.
Each row of ``CASES`` names a request on an object of side a and the roles of side a who may see it
(``owners``; staff always may, the broker where listed). Generated from it:

* the first owner and staff never get 404 (the row addresses a real object);
* every other signed-in user (side b's buyer, seller and operator, side a's other roles, the broker
  unless listed) gets 404, and a write changes nothing (row counts and the object's own row);
* an anonymous visitor gets no 2xx and changes nothing either.

A row may name a ``gate``: roles the endpoint refuses before any lookup (a broker-only page, a
seller-only write, another company named by ``?company=``); their answer must then be the very one
an id that does not exist gets, so nothing is disclosed. Another owner's wallet, statement and payouts
are addressed by ``?company=``, and are rows too.

Lists (``API_LISTS`` by id and count, ``PAGES`` by the other side's marker strings, navigation counts
and the seller's dashboard) never show the other side's objects and show the user's own (so they are
not vacuous). ``BODY_IDS``: another owner's id inside a body (a company, a draft product, a SKU, an
order line, a buyer) is refused exactly as a missing id. The admin lets staff see both sides and
nobody else in. The last test walks the URL resolver of config/urls.py: a pattern with a parameter
is covered by a row or listed in ``OUT_OF_SCOPE`` with a reason, so a new endpoint without an access
case fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, resolve

from .conftest import png_bytes

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
ROLES = ("buyer", "seller", "operator")
MISSING = re.compile(r"(?<=[/=])\d+(?=/|&|$)")  # the ids of a URL, path or query


@dataclass(frozen=True)
class Case:
    method: str
    url: str  # formatted with side a's objects, e.g. "/api/v1/orders/{order.pk}/" (also {wh})
    kind: str  # the object whose row must not change (a key of Side.objects), "" for none
    owners: str  # the roles of side a who may see the object ("broker" for the shared broker)
    body: object = None  # a dict, or a callable(objects) -> dict (files are made fresh per request)
    multipart: bool = False
    actor: str = ""  # who acts in the owner check: the first of ``owners`` unless named ("staff": staff only)
    staff: bool = True  # False: a page of the owner's own portal; staff sees the object in the admin instead
    gate: str = ""  # roles the endpoint refuses before any lookup, the same answer as for a missing id
    gate_status: int = 403

    @property
    def api(self) -> bool:
        return self.url.startswith("/api/")

    def id(self) -> str:
        return f"{self.method} {self.url}"


def C(method, url, kind, owners, body=None, multipart=False, actor="", staff=True, gate="", gate_status=403):
    return Case(method, url, kind, owners, body, multipart, actor, staff, gate, gate_status)


NOT_SELLERS = "buyer operator broker"
NOT_BROKERS = "buyer seller operator"
ANYONE = "buyer seller operator broker"


def _photo(_o):
    return {"image": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")}


def _document(_o):
    return {"kind": "invoice", "file": SimpleUploadedFile("inv.pdf", PDF, content_type="application/pdf")}


def _receive_return(o):
    return {"lines": [{"line": o["line"].pk, "quantity": 1, "condition": "restock"}]}


def _return_lines(o):
    return {"lines": [{"line": o["line"].pk, "quantity": 1}], "reason": "defective", "comment": "x"}


def _adjust(o):
    return {"sku": o["product"].sku_id, "bond_status": "released", "quantity": -1, "reason": "count"}


def _consignment_counts(o):
    return {"lines": [{"line": line.pk, "counted": 5} for line in o["consignment"].lines.all()]}


def _pack(_o):
    return {"parcels": [{"weight_g": 800, "length_mm": 200, "width_mm": 120, "height_mm": 80}]}


# One row per endpoint or page and method that shows or changes another owner's object.
CASES = [
    # --- orders (API) ---
    C("GET", "/api/v1/orders/{order.pk}/", "order", "buyer seller"),
    C("POST", "/api/v1/orders/{placed.pk}/pay/", "placed", "buyer seller"),
    C("POST", "/api/v1/orders/{placed.pk}/cancel/", "placed", "buyer seller", {"reason": "changed my mind"}),
    C("POST", "/api/v1/orders/{order.pk}/returns/", "order", "buyer seller", _return_lines),
    # --- returns (API) ---
    C("GET", "/api/v1/returns/{return.pk}/", "return", "buyer seller operator"),
    C("POST", "/api/v1/returns/{return.pk}/approve/", "return", "seller buyer operator"),
    C("POST", "/api/v1/returns/{return.pk}/refuse/", "return", "seller buyer operator", {"reason": "worn"}),
    C("POST", "/api/v1/returns/{return.pk}/ship/", "return", "buyer seller operator", {"tracking_number": "T1"}),
    C("POST", "/api/v1/returns/{return_shipped.pk}/receive/", "return_shipped", "operator buyer seller",
      _receive_return),
    # --- wallets, statements and payouts of a company named by ?company= (API and pages) ---
    C("GET", "/api/v1/wallets/?company={company.pk}", "", "seller"),
    C("GET", "/api/v1/wallets/{cur}/statement/?company={company.pk}", "", "seller"),
    C("POST", "/api/v1/wallets/convert/?company={company.pk}", "", "seller",
      {"amount": {"amount": "10.00", "currency": "KZT"}, "to_currency": "CNY"}),
    C("GET", "/api/v1/payouts/?company={company.pk}", "", "seller"),
    C("POST", "/api/v1/payouts/?company={company.pk}", "", "seller", {"amount": {"amount": "10.00", "currency": "KZT"}}),
    C("GET", "/wallet/{cur}/?company={company.pk}", "", "seller"),
    C("POST", "/wallet/{cur}/convert/?company={company.pk}", "", "seller", {"amount": "10.00", "to_currency": "CNY"}),
    C("POST", "/wallet/{cur}/top-up/?company={company.pk}", "", "seller", {"amount": "10.00"}),
    C("POST", "/wallet/{cur}/payout/?company={company.pk}", "", "seller", {"amount": "10.00"}),
    # Another company named: 400 at the field "company", the answer a company that does not exist gets.
    C("GET", "/api/v1/imports/export/?company={company.pk}", "", "seller", gate=ANYONE, gate_status=400),
    # --- payouts (API) ---
    C("GET", "/api/v1/payouts/{payout.pk}/", "payout", "seller", staff=False),  # staff: ?company=
    C("GET", "/api/v1/payouts/{payout.pk}/?company={company.pk}", "payout", "seller"),
    # --- customs declarations (API) ---
    C("GET", "/api/v1/customs/declarations/{declaration.pk}/", "declaration", "seller broker"),
    C("POST", "/api/v1/customs/declarations/{declaration.pk}/documents/", "declaration", "seller broker", _document,
      multipart=True),
    C("POST", "/api/v1/customs/declarations/{declaration.pk}/submit/", "declaration", "seller broker"),
    C("POST", "/api/v1/customs/declarations/{declaration.pk}/transition/", "declaration", "seller broker",
      {"to": "submitted"}),
    # --- warehouses, stock, consignments, transfers, fulfilments (API) ---
    C("GET", "/api/v1/warehouses/{wh}/pick-list/", "", "operator"),
    C("POST", "/api/v1/warehouses/{wh}/adjustments/", "level", "operator", _adjust),
    C("GET", "/api/v1/consignments/{consignment.pk}/", "consignment", "seller operator"),
    C("POST", "/api/v1/consignments/{consignment.pk}/submit/", "consignment", "seller operator"),
    C("POST", "/api/v1/consignments/{consignment.pk}/cancel/", "consignment", "seller operator"),
    C("POST", "/api/v1/consignments/{consignment.pk}/receive/", "consignment", "seller operator", _consignment_counts,
      actor="operator"),
    C("GET", "/api/v1/transfers/{transfer.pk}/", "transfer", "operator"),
    C("POST", "/api/v1/transfers/{transfer.pk}/cancel/", "transfer", "operator"),
    # Received by the destination's operator (no one of the world operates it): staff acts.
    C("POST", "/api/v1/transfers/{transfer.pk}/receive/", "transfer", "operator", actor="staff"),
    C("GET", "/api/v1/fulfilments/{paid_fulfilment.pk}/", "paid_fulfilment", "operator"),
    C("POST", "/api/v1/fulfilments/{paid_fulfilment.pk}/pick/", "paid_fulfilment", "operator"),
    C("POST", "/api/v1/fulfilments/{paid_fulfilment.pk}/pack/", "paid_fulfilment", "operator", _pack),
    C("POST", "/api/v1/fulfilments/{paid_fulfilment.pk}/ship/", "paid_fulfilment", "operator"),
    # --- products and imports (API) ---
    C("GET", "/api/v1/products/{draft.pk}/", "draft", "seller"),
    C("PATCH", "/api/v1/products/{draft.pk}/", "draft", "seller", {"net_weight_g": 351}, gate=NOT_SELLERS),
    C("PATCH", "/api/v1/products/{product.pk}/", "product", "seller", {"net_weight_g": 351}, gate=NOT_SELLERS),
    C("POST", "/api/v1/products/{product.pk}/images/", "product", "seller", _photo, multipart=True,
      gate=NOT_SELLERS),
    C("GET", "/api/v1/imports/{import.pk}/", "import", "seller"),
    C("GET", "/api/v1/imports/{import.pk}/errors/", "import", "seller"),
    # --- the buyer's pages ---
    C("GET", "/orders/{order.pk}/", "order", "buyer", staff=False),
    C("POST", "/orders/{placed.pk}/pay/", "placed", "buyer", staff=False),
    C("POST", "/orders/{placed.pk}/cancel/", "placed", "buyer", staff=False),
    C("POST", "/orders/{order.pk}/return/", "order", "buyer",
      lambda o: {f"qty-{o['line'].pk}": "1", "reason": "defective", "comment": ""}, staff=False),
    C("POST", "/returns/{return.pk}/ship/", "return", "buyer", {"tracking_number": "T1"}, staff=False),
    # --- the seller's pages ---
    C("GET", "/seller/orders/{order.pk}/", "order", "seller"),
    C("POST", "/seller/returns/{return.pk}/decide/", "return", "seller", {"decision": "approve"}, staff=False),
    C("GET", "/p/{draft.pk}/", "draft", "seller"),
    C("GET", "/seller/products/{draft.pk}/", "draft", "seller"),
    C("GET", "/seller/products/{product.pk}/", "product", "seller"),
    C("POST", "/seller/products/{product.pk}/", "product", "seller", {"net_weight_g": "351"}),
    C("POST", "/seller/products/{draft.pk}/photos/", "draft", "seller", lambda o: {"photos": _photo(o)["image"]},
      multipart=True),
    C("POST", "/seller/products/{draft.pk}/photos/{image.pk}/delete/", "image", "seller", staff=False),
    C("POST", "/seller/products/{draft.pk}/photos/arrange/", "draft", "seller",
      lambda o: {f"position-{o['image'].pk}": "1", "cover": str(o["image"].pk)}),
    C("GET", "/seller/imports/{import.pk}/", "import", "seller"),
    C("GET", "/seller/imports/{import.pk}/errors.csv", "import", "seller"),
    C("GET", "/warehouses/consignments/{consignment.pk}/", "consignment", "seller operator"),
    C("POST", "/warehouses/consignments/{consignment.pk}/submit/", "consignment", "seller operator"),
    # --- the operator's pages ---
    C("POST", "/operator/returns/{return_shipped.pk}/receive/", "return_shipped", "operator",
      lambda o: {f"restock-{o['line'].pk}": "1", f"damaged-{o['line'].pk}": "0"}),
    C("GET", "/warehouses/{wh}/", "", "operator"),
    C("GET", "/warehouses/{wh}/stock.csv", "", "operator"),
    C("GET", "/warehouses/{wh}/movements/", "", "operator"),
    C("GET", "/warehouses/{wh}/levels/{level.pk}/adjust/", "level", "operator"),
    C("POST", "/warehouses/{wh}/levels/{level.pk}/adjust/", "level", "operator",
      {"quantity": "-1", "reason": "count", "note": ""}),
    C("GET", "/warehouses/{wh}/levels/{level.pk}/transfer/", "level", "operator"),
    C("POST", "/warehouses/{wh}/levels/{level.pk}/transfer/", "level", "operator",
      {"destination": "XIY", "quantity": "1", "note": ""}),
    C("GET", "/warehouses/{wh}/transfers/", "", "operator"),
    C("POST", "/warehouses/{wh}/transfers/{transfer.pk}/cancel/", "transfer", "operator"),
    C("GET", "/warehouses/{wh}/consignments/", "", "operator"),
    C("GET", "/warehouses/{wh}/picking/", "", "operator"),
    C("POST", "/warehouses/{wh}/fulfilments/{paid_fulfilment.pk}/pick/", "paid_fulfilment", "operator"),
    # --- the broker's pages (customs) ---
    C("GET", "/customs/{declaration.pk}/", "declaration", "broker", gate=NOT_BROKERS),
    C("POST", "/customs/{declaration.pk}/act/", "declaration", "broker", {"to": "submitted"}, gate=NOT_BROKERS),
    C("POST", "/customs/{declaration.pk}/documents/", "declaration", "broker", _document, multipart=True,
      gate=NOT_BROKERS),
    # The file itself: the broker, and the payer's members (as the API's declaration).
    C("GET", "/customs/{declaration.pk}/documents/{document.pk}/", "document", "broker seller"),
]

# Patterns with a parameter that the matrix does not cover, and why.
OUT_OF_SCOPE = {
    "api/v1/payments/webhooks/<str:provider>/": "provider webhooks: signed by the provider, no user "
                                                "(tests/proof/test_bad_input.py)",
    "api/v1/storefronts/(?P<code>[^/.]+)/$": "public: the storefronts on sale",
    "s/<slug:code>/": "public: a storefront's page",
    "api/v1/warehouses/(?P<code>[^/.]+)/$": "every signed-in user reads the warehouse directory (sellers ship to "
                                            "them); what is inside is scoped (stock, movements: LISTS)",
    "api/v1/warehouses/(?P<code>[^/.]+)/stock/$": "a list scoped per row: sellers see their SKUs in any warehouse "
                                                  "(LISTS)",
    "api/v1/warehouses/(?P<code>[^/.]+)/movements/$": "a list scoped per row (LISTS)",
    "wallet/<str:currency>/quote/": "an FX quote of an amount (htmx): no wallet is read, whoever asks",
    "img/<path:name>": "photo files under unguessable random names (a 32-hex token); product pages decide who "
                       "learns the name",
    "seller/imports/template.<str:kind>": "the blank import template, the same for everyone",
    "seller/imports/export.<str:kind>": "the caller's own catalogue export (LISTS)",
}


def _bind(case: Case, side) -> tuple[str, dict | None]:
    objects = {**side.objects, "wh": side.warehouse, "company": side.company, "cur": side.currency}
    url = case.url.format(**objects)
    body = case.body(side.objects) if callable(case.body) else case.body
    return url, body


def _send(client, case: Case, url: str, body):
    method = case.method.lower()
    if case.api:
        return getattr(client, method)(url, body or {}, format="multipart" if case.multipart else "json")
    if case.method == "GET":
        return client.get(url)
    if case.method == "PATCH":
        return client.patch(url, body or {})
    return client.post(url, body or {})


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content


def _snapshot(world, case: Case):
    """Counts of the tables a write could touch, and the row of the object itself."""
    from core.models import TransitionEvent
    from customs.models import Declaration, DeclarationDocument
    from marketplace.models import CatalogueImport, Product, ProductImage
    from orders.models import Order, Return
    from payments.models import Payout, Transaction
    from warehouses.models import Consignment, Fulfilment, Movement, Parcel, StockLevel, Transfer

    counts = tuple(m.objects.count() for m in (
        TransitionEvent, Order, Return, Transaction, Payout, Movement, Transfer, Consignment, Fulfilment, Parcel,
        Product, ProductImage, CatalogueImport, Declaration, DeclarationDocument))
    levels = tuple(StockLevel.objects.order_by("pk").values_list("on_hand", "reserved"))
    row = None
    if case.kind:
        obj = world.a.objects[case.kind]
        row = type(obj).objects.filter(pk=obj.pk).values().first()
    return counts, levels, row


def _checkers(case: Case, world) -> list:
    """Who must not get 404: the acting owner, and staff where the endpoint serves staff."""
    role = case.actor or case.owners.split()[0]
    users = [] if role == "staff" else [world.broker if role == "broker" else getattr(world.a, role)]
    return users + ([world.staff] if case.staff or role == "staff" else [])


def _intruders(case: Case, world) -> list[tuple[str, object]]:
    allowed = set(case.owners.split())
    out = [(f"{role}_b", getattr(world.b, role)) for role in ROLES]
    out += [(f"{role}_a", getattr(world.a, role)) for role in ROLES if role not in allowed]
    if "broker" not in allowed:
        out.append(("broker", world.broker))
    return out


def _client(case: Case, user, client_as, api_for):
    return api_for(user) if case.api else client_as(user)


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_access_case(world, case, client_as, api_for):
    """One row: every intruder gets 404 (or the row's role gate) and changes nothing; an anonymous
    visitor gets no 2xx and changes nothing; then the acting owner and staff do not get 404 (their
    writes are rolled back with the test's savepoint)."""
    url, _ = _bind(case, world.a)
    before = _snapshot(world, case)
    wrong = []
    for who, user in _intruders(case, world):
        _, body = _bind(case, world.a)  # fresh files each time
        client = _client(case, user, client_as, api_for)
        response = _send(client, case, url, body)
        if response.status_code == case.gate_status and who.split("_")[0] in case.gate.split():
            # A gate before any lookup: a missing object gets the very same answer (nothing disclosed).
            _, body = _bind(case, world.a)
            missing = _send(client, case, MISSING.sub("2147483000", url), body)
            assert missing.status_code == response.status_code, (who, case.id(), missing.status_code)
            if case.api:  # the same envelope too (a page carries a fresh nonce each time)
                assert missing.json() == response.json(), (who, case.id(), missing.json())
            continue
        if response.status_code != 404:
            wrong.append((who, response.status_code, _body(response)[:200]))
        elif case.api:
            assert response.json()["error"]["code"] == "not_found", (who, response.content[:300])
    assert not wrong, f"{case.id()}: {wrong}"
    assert _snapshot(world, case) == before, f"{case.id()} changed something"

    _, body = _bind(case, world.a)
    response = _send(_client(case, None, client_as, api_for), case, url, body)
    assert response.status_code in (302, 401, 403, 404), ("anonymous", case.id(), response.status_code)
    if response.status_code == 302:
        assert "/login/" in response["Location"], response["Location"]
    assert _snapshot(world, case) == before, f"{case.id()} changed something for an anonymous visitor"

    for user in _checkers(case, world):
        _, body = _bind(case, world.a)
        response = _send(_client(case, user, client_as, api_for), case, url, body)
        assert response.status_code != 404, (user.username, case.id(), _body(response)[:300])
        assert response.status_code < 500, (user.username, case.id(), _body(response)[:500])


# --- lists, counts and dashboards ------------------------------------------------------------


@dataclass(frozen=True)
class ListCase:
    url: str  # {wh}: side a's warehouse
    kinds: tuple  # the object kinds listed (API: their ids in ``results``)
    viewers: str  # roles of a side who see that side's objects; "broker"/"staff" for the shared users

    def id(self) -> str:
        return self.url


def L(url, kinds, viewers):
    return ListCase(url, tuple(kinds.split()), viewers)


API_LISTS = [
    L("/api/v1/orders/", "order placed paid", "buyer seller staff"),
    L("/api/v1/returns/", "return return_shipped", "buyer seller operator staff"),
    L("/api/v1/payouts/", "payout", "seller"),
    L("/api/v1/customs/declarations/", "declaration", "seller broker staff"),
    L("/api/v1/consignments/", "consignment", "seller operator staff"),
    L("/api/v1/transfers/", "transfer", "operator staff"),
    L("/api/v1/fulfilments/", "fulfilment paid_fulfilment", "operator staff"),
    L("/api/v1/imports/", "import", "seller staff"),
]


def _viewer(user, side, viewers: str, world) -> bool:
    roles = viewers.split()
    if user == world.staff:
        return "staff" in roles
    if user == world.broker:
        return "broker" in roles
    return any(getattr(side, role) == user for role in roles if role in ROLES)


def _all_results(client, url) -> list[dict]:
    rows, pages = [], 0
    while url and pages < 20:
        body = client.get(url).json()
        rows += body["results"] if isinstance(body, dict) else body
        url = body.get("next") if isinstance(body, dict) else None
        pages += 1
    return rows


@pytest.mark.parametrize("case", API_LISTS, ids=ListCase.id)
def test_api_lists_show_exactly_the_callers_objects(world, case, api_for):
    """By id and by count: a list holds the caller's objects of both sides it may see, nothing else."""
    for who, user in world.users().items():
        expected = {side.objects[kind].pk for side in (world.a, world.b) if _viewer(user, side, case.viewers, world)
                    for kind in case.kinds}
        response = api_for(user).get(case.url)
        assert response.status_code == 200, (who, case.url, response.content[:300])
        ids = [row["id"] for row in _all_results(api_for(user), case.url)]
        assert sorted(ids) == sorted(expected), (who, case.url, ids, expected)


def test_products_list_never_shows_another_sellers_drafts(world, api_for):
    drafts = {world.a.objects["draft"].pk: "a", world.b.objects["draft"].pk: "b"}
    for who, user in world.users().items():
        ids = {row["id"] for row in _all_results(api_for(user), "/api/v1/products/?page_size=200")}
        shown = {drafts[pk] for pk in ids & set(drafts)}
        mine = {"a"} if user == world.a.seller else {"b"} if user == world.b.seller else set()
        assert shown <= mine | ({"a", "b"} if user == world.staff else set()), (who, shown)
        # and the public products of both sides are there for everyone
        assert {world.a.objects["product"].pk, world.b.objects["product"].pk} <= ids, who


@pytest.mark.parametrize("path", ["stock", "movements"])
def test_warehouse_stock_and_movements_hold_only_the_callers_rows(world, api_for, path):
    """Operators read their warehouses only (another's: 404); a seller reads its own SKUs in any of them."""
    skus = {world.a.objects["product"].sku_id: "a", world.b.objects["product"].sku_id: "b"}
    for side, other in ((world.a, world.b), (world.b, world.a)):
        url = f"/api/v1/warehouses/{side.warehouse}/{path}/"
        assert api_for(other.operator).get(url).status_code == 404
        assert api_for(world.broker).get(url).status_code in (403, 404)
        for user, expect in ((side.operator, {side.key}), (side.seller, {side.key}), (other.seller, set()),
                             (world.staff, {side.key})):
            rows = _all_results(api_for(user), url)
            assert {skus[row["sku"]] for row in rows if row["sku"] in skus} == expect, (user.username, url)


def test_statements_show_only_the_callers_entries(world, api_for, client_as):
    """Wallets are addressed by currency: each caller reads its own, never the other side's entries."""
    for side, other in ((world.a, world.b), (world.b, world.a)):
        theirs = {o.reference for o in (other.objects["order"], other.objects["paid"])}
        mine = {o.reference for o in (side.objects["order"], side.objects["paid"])}
        for currency in ("KZT", "UZS"):
            rows = _all_results(api_for(side.buyer), f"/api/v1/wallets/{currency}/statement/")
            references = {row.get("reference") for row in rows}
            assert not references & theirs, (side.key, currency, references)
            if currency == side.currency:
                assert references & mine, (side.key, references)
        wallets = api_for(side.buyer).get("/api/v1/wallets/").json()
        rows = wallets["results"] if isinstance(wallets, dict) and "results" in wallets else wallets
        assert {w["currency"] for w in rows} <= {side.currency}, rows
        page = client_as(side.buyer).get(f"/wallet/{side.currency}/").content.decode()
        assert not any(ref in page for ref in theirs if f"{ref}<" in page or f"{ref} " in page)


# Pages that list objects: (url, roles who see their own side's objects there, own marker of side a).
PAGES = [
    ("/orders/", "buyer", lambda o: f"/orders/{o['order'].pk}/"),
    ("/seller/", "seller", lambda o: o["product"].sku.code),
    ("/seller/orders/", "seller", lambda o: f"/seller/orders/{o['paid'].pk}/"),
    ("/seller/returns/", "seller", lambda o: "Proof phone A"),
    ("/seller/products/", "seller", lambda o: o["draft"].sku.code),
    ("/seller/imports/", "seller", lambda o: f"/seller/imports/{o['import'].pk}/"),
    ("/seller/company/", "seller", lambda o: "Proof Company A"),
    ("/seller/imports/export.csv", "seller", lambda o: o["draft"].sku.code),
    ("/warehouses/consignments/", "seller", lambda o: o["consignment"].number),
    ("/warehouses/consignments/skus/?q=SKU", "seller", lambda o: o["product"].sku.code),  # the SKU picker
    ("/warehouses/consignments/skus/?q=SKU&company={company.pk}", "seller", lambda o: o["product"].sku.code),
    ("/warehouses/{wh}/", "operator", lambda o: o["product"].sku.code),
    ("/warehouses/{wh}/stock.csv", "operator", lambda o: o["product"].sku.code),
    ("/warehouses/{wh}/movements/", "operator", lambda o: o["transfer"].number),
    ("/warehouses/{wh}/transfers/", "operator", lambda o: o["transfer"].number),
    ("/warehouses/{wh}/consignments/", "operator", lambda o: o["consignment"].number),
    ("/warehouses/{wh}/picking/", "operator", lambda o: o["product"].sku.code),
    ("/operator/returns/", "operator", lambda o: "PROOF-RET-a"),
    ("/customs/", "broker", lambda o: "PROOF-a"),
    ("/wallet/KZT/", "buyer", lambda o: o["order"].reference),
]


@pytest.mark.parametrize(("url", "roles", "marker"), PAGES, ids=[p[0] for p in PAGES])
def test_pages_never_show_the_other_sides_objects(world, client_as, url, roles, marker):
    """Every user who reaches the page sees none of the other side's private strings (draft SKUs and
    titles, consignment and transfer numbers, the buyer's name, return tracking numbers); side a's own
    user sees its own object there (so the page is not empty by accident)."""
    page = url.format(wh=world.a.warehouse, company=world.a.company)
    for who, user in world.users().items():
        response = client_as(user).get(page)
        if response.status_code != 200:
            assert response.status_code in (302, 403, 404), (who, page, response.status_code)
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        for side in (world.a, world.b):
            if user == world.staff or any(getattr(side, role) == user for role in ROLES):
                continue
            if user == world.broker and url == "/customs/":
                continue  # the broker's queue holds every declaration
            leaked = [m for m in side.markers if m in text]
            assert not leaked, (who, page, side.key, leaked)
    owner = world.broker if roles == "broker" else getattr(world.a, roles)
    response = client_as(owner).get(page)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert marker(world.a.objects) in body.decode("utf-8", "replace"), (page, response.status_code)


def test_navigation_counts_and_the_dashboard_count_only_the_callers_objects(world, client_as):
    for side in (world.a, world.b):
        seller = client_as(side.seller).get("/seller/")
        assert seller.status_code == 200
        assert seller.context["desk_orders_count"] == 1  # its paid order, not the other side's
        assert seller.context["desk_returns_count"] == 1  # its requested return
        assert [c.pk for c in seller.context["companies"]] == [side.company.pk]
        assert sum(s["count"] for s in seller.context["statuses"]) == 3  # delivered, placed, paid
        assert {row["currency"] for row in seller.context["money"]} <= {side.currency}
        assert {level.sku.company_id for level in seller.context["levels"]} == {side.company.pk}
        operator = client_as(side.operator).get("/operator/returns/")
        assert operator.context["returns_to_receive_count"] == 1  # the return shipped back to its warehouse
    staff = client_as(world.staff).get("/seller/orders/")
    assert staff.status_code == 200


# --- every object URL is in the matrix -------------------------------------------------------


def _patterns(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        else:
            yield _anchorless(prefix + str(p.pattern))


def _route(url: str) -> str:
    return _anchorless(resolve(url.split("?")[0]).route)


def _anchorless(route: str) -> str:
    return re.sub(r"(?<!\[)\^", "", route)  # the routers' "^" anchors, not the "[^/.]" of their groups


def test_every_url_with_an_object_id_has_an_access_case(world):
    """A pattern of config/urls.py with a parameter (an id, a code, a currency...) is covered by a row
    of CASES or LISTS, or listed in OUT_OF_SCOPE with its reason; the admin is covered by
    test_the_admin_is_staff_only."""
    covered = {_route(_bind(case, world.a)[0]) for case in CASES}
    covered |= {_route(url.format(wh=world.a.warehouse, company=world.a.company)) for url, *_ in PAGES}
    with_params = {route for route in _patterns(get_resolver("config.urls").url_patterns)
                   if re.search(r"<\w+(:\w+)?>|\(\?P<", route) and not route.startswith("admin/")}
    missing = sorted(with_params - covered - set(OUT_OF_SCOPE))
    assert not missing, f"URL patterns with an object id and no access case (add a row to CASES): {missing}"
    stale = sorted(set(OUT_OF_SCOPE) - with_params)
    assert not stale, f"OUT_OF_SCOPE names patterns that no longer exist: {stale}"


# The models of the world that the admin registers (returns, fulfilments and imports are not in the
# admin: staff reads them through the API, rows of CASES with staff=True).
ADMIN = [("orders", "order", "order"), ("payments", "payout", "payout"), ("customs", "declaration", "declaration"),
         ("warehouses", "consignment", "consignment"), ("warehouses", "transfer", "transfer"),
         ("warehouses", "stocklevel", "level"), ("marketplace", "product", "draft")]


def test_the_admin_is_staff_only(world, client_as):
    """The platform's admin (staff and superuser, as the demo's ``admin``) sees every owner's objects in
    the Django admin; nobody else gets into it."""
    from .conftest import make_user

    admin = make_user("proof_admin", "staff")
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    for app, model, kind in ADMIN:
        for side in (world.a, world.b):
            url = f"/admin/{app}/{model}/{side.objects[kind].pk}/change/"
            response = client_as(admin).get(url)
            assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    # The admin's door does not depend on the object: every other user is sent to its login page.
    url = f"/admin/orders/order/{world.a.objects['order'].pk}/change/"
    for who, user in world.users().items():
        if user != world.staff:
            response = client_as(user).get(url)
            assert response.status_code == 302 and "/admin/login/" in response["Location"], (who, url)
    for app, model, kind in ADMIN:
        response = client_as(world.b.seller).get(f"/admin/{app}/{model}/{world.a.objects[kind].pk}/change/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], (app, model)


# --- another owner's id inside a body: refused exactly as an id that does not exist ----------------

MISSING_ID = 2147483000


def _png_upload():
    return SimpleUploadedFile("c.csv", b"sku,category,hs_code,origin_country,net_weight_g,gross_weight_g,title_en\r\n"
                              b"PROOF-BODY-1,phones,851713,CN,300,350,Phone\r\n", content_type="text/csv")


BODY_IDS = [
    # (who of side b, url, body(the other's id) -> dict, multipart, the id of side a's object)
    ("buyer", "/api/v1/customs/quote/", lambda i: {
        "origin_country": "KZ", "destination_country": "CN", "currency": "CNY", "buyer": i,
        "shipping": {"amount": "1.00", "currency": "CNY"}, "insurance": {"amount": "0.00", "currency": "CNY"},
        "lines": [{"hs_code": "040900", "description": "honey", "quantity": 1,
                   "unit_price": {"amount": "5.00", "currency": "CNY"}, "weight_kg": "0.500"}]}, False,
     lambda a: a.buyer.pk),
    ("buyer", "/api/v1/orders/", lambda i: {
        "storefront": "cn-kz", "lines": [{"product": i, "quantity": 1}], "ship_to": {
            "country": "KZ", "city": "Almaty", "address": "Abay Ave 1", "postal_code": "050000", "name": "B",
            "phone": "+7 701 000 0000", "id_number": "900307400102"}}, False, lambda a: a.objects["draft"].pk),
    ("seller", "/api/v1/imports/", lambda i: {"file": _png_upload(), "company": i}, True, lambda a: a.company.pk),
    ("seller", "/api/v1/products/", lambda i: {
        "company": i, "sku": "PROOF-BODY-2", "category": "phones", "hs_code": "851713", "origin_country": "CN",
        "net_weight_g": 300, "translations": {"en": {"title": "Phone"}}}, False, lambda a: a.company.pk),
    ("seller", "/api/v1/consignments/", lambda i: {
        "company": i, "warehouse": "TAS", "origin": "URC", "border_crossing": "BC-IRKESHTAM",
        "lines": [{"sku": i, "quantity": 1}]}, False, lambda a: a.company.pk),
    ("seller", "/api/v1/consignments/", lambda i: {
        "warehouse": "TAS", "origin": "URC", "border_crossing": "BC-IRKESHTAM", "lines": [{"sku": i, "quantity": 1}]},
     False, lambda a: a.objects["product"].sku_id),
    ("operator", "/api/v1/warehouses/TAS/adjustments/", lambda i: {
        "sku": i, "bond_status": "released", "quantity": 1, "reason": "count"}, False,
     lambda a: a.objects["product"].sku_id),
    ("buyer", "/api/v1/orders/{order_b}/returns/", lambda i: {
        "lines": [{"line": i, "quantity": 1}], "reason": "defective"}, False, lambda a: a.objects["line"].pk),
]


@pytest.mark.parametrize(("role", "url", "body", "multipart", "their_id"), BODY_IDS,
                         ids=[f"{b[0]} {b[1]}" for b in BODY_IDS])
def test_another_owners_id_in_a_body_is_refused_like_a_missing_one(world, api_for, role, url, body, multipart,
                                                                    their_id):
    """Side b names side a's object (a company, a draft product, a SKU, an order line, a buyer) in a
    body: the answer is a 4xx identical to the one for an id that does not exist, and nothing is
    written."""
    from core.models import TransitionEvent
    from marketplace.models import CatalogueImport, Product
    from orders.models import Order, Return
    from warehouses.models import Consignment, Movement

    def counts():
        return [m.objects.count() for m in (TransitionEvent, CatalogueImport, Product, Order, Return, Consignment,
                                            Movement)]

    client = api_for(getattr(world.b, role))
    path = url.format(order_b=world.b.objects["order"].pk)
    fmt = "multipart" if multipart else "json"
    before = counts()
    theirs = client.post(path, body(their_id(world.a)), format=fmt)
    missing = client.post(path, body(MISSING_ID), format=fmt)
    assert 400 <= theirs.status_code < 500, (path, theirs.status_code, theirs.content[:300])
    assert theirs.status_code == missing.status_code, (path, theirs.content[:300], missing.content[:300])
    mine, nope = theirs.json()["error"], missing.json()["error"]
    assert (mine["code"], sorted(mine["fields"])) == (nope["code"], sorted(nope["fields"])), (mine, nope)
    assert counts() == before
