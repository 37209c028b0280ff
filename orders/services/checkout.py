"""Checkout and orders: the orchestration of catalogue, warehouses, customs and payments.

The lower apps know an order only by its reference ``order:<id>``:

* placing reserves the units (:func:`warehouses.services.stock_reserve`, all or nothing) and fixes
  the landed cost with the customs quote for the warehouse the units were reserved in;
* paying holds the total in escrow, books the buyer's customs allowance and keeps the reservation;
  then the order takes its road (:mod:`orders.states`): sold from bond, its parcel is declared to
  customs at once and the warehouse fulfils it once customs has released it; across a border, the
  warehouse fulfils it at once and the parcel is declared at the crossing;
* the warehouse reports picking, packing and shipping (``orders.fulfilment_changed``), customs its
  decision (``orders.declaration_changed``); the order follows both;
* cancelling and expiry undo what was done (release, refund, allowance back);
* delivery releases the escrow to the seller company minus the platform's commission.

Each write runs in one transaction: when any step refuses, nothing of the others stays (the lower
services join the caller's transaction). Status changes go through :func:`core.states.transition`
only; the placement itself is recorded as the first event of the timeline.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.models import Case, OuterRef, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto, identity, plaintext, sql
from core.access import BUYER, STAFF, SYSTEM_ACTOR, has_role, remember_roles
from core.errors import DomainError, ErrorCode, field_error
from core.models import Place
from core.money import Money
from core.states import actor_fields, check, create, creation_event, record_creation, transition
from core.tasks import callback
from customs import services as customs
from customs.interface import QuoteLine
from customs.selectors import RULES_VERSION_SQL
from marketplace.models import Listing, Product, ProductTranslation, Storefront, content_language
from payments import services as payments
from payments.interface import USER, Owner
from warehouses import selectors as warehouse_selectors
from warehouses import services as warehouses
from warehouses.interface import Reservation as WarehouseReservation

from ..models import Order, OrderLine
from ..states import BOND, BORDER, DOMESTIC
from ..states import OrderStatus as S

log = logging.getLogger(__name__)

MAX_LINES = 50
MAX_QUANTITY = 1000
SHIP_TO_LIMITS = {"city": 100, "address": 300, "postal_code": 20, "name": 150, "phone": 32}
PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,30}$")
REFERENCE = re.compile(r"^order:(\d+)$")
FULFILMENT_CALLBACK = callback("orders.fulfilment_changed")
DECLARATION_CALLBACK = callback("orders.declaration_changed")
# Moves without side effects, which the operator, broker or staff may fire by hand (the admin).
PLAIN_MOVES = frozenset({S.PICKING, S.PACKED, S.IN_TRANSIT, S.AT_CUSTOMS, S.CLEARED, S.CUSTOMS_REJECTED})


# --- helpers ---------------------------------------------------------------------------------

_SQL: dict[object, str] = {}  # the hot path's statements, built once per process from the models


def order_id_of(reference: str) -> int | None:
    match = REFERENCE.match(str(reference or ""))
    return int(match.group(1)) if match else None


def _locked(order: Order | int) -> Order:
    pk = order.pk if isinstance(order, Order) else order
    if connection.vendor == "postgresql":
        if "locked" not in _SQL:
            _SQL["locked"] = f"SELECT {sql.columns(Order, 'o')} FROM {Order._meta.db_table} o WHERE o.id = %s FOR UPDATE"  # noqa: S608
        rows = sql.fetch(_SQL["locked"], [pk])
        found = sql.instance(Order, rows[0]) if rows else None
    else:
        found = Order.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, _("Order not found."))
    return found


def _check_buyer(order: Order, actor, *, staff_may: bool) -> None:
    """Only the order's buyer (and staff where allowed) acts on it; a seller who can read the
    order gets 403, never a payment or a cancellation in the buyer's name."""
    if actor is SYSTEM_ACTOR or (staff_may and has_role(actor, STAFF)):
        return
    if getattr(actor, "pk", None) != order.buyer_id:
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("Only the buyer may do this."))


# --- placing ---------------------------------------------------------------------------------


def _storefront(code, *, with_order_id: bool = False, buyer=None, products: list[int] | None = None,
                preview: tuple[list[tuple[int, int]], str] | None = None) -> Storefront:
    """The active storefront ``code``. On PostgreSQL one statement also reads its markets, its
    warehouses with their countries, ``buyer``'s roles (then cached on the user: ``has_role`` asks
    nothing more), ``with_order_id`` the next order id (``next_order_id``: the order's reference is
    known before its row is written), the customs rules' version (``rules_version``, for the
    landed cost) and, with ``products``, their listings on sale there with their titles in every
    language (``offered``, for :func:`_offers`). With ``preview`` ((product, quantity) lines, the
    buyer's country), also where the units would be taken from (``previewed``: the country and
    the rows for ``allocation_preview(read=...)``)."""
    if isinstance(code, Storefront):
        return code
    if connection.vendor != "postgresql":
        storefront = Storefront.objects.filter(code=str(code or ""), is_active=True).first()
        if storefront is None:
            raise field_error("storefront", _("Unknown storefront."))
        return storefront
    params = [getattr(buyer, "pk", None)]
    if preview is not None:
        lines, country = preview
        params += [[pk for pk, _qty in lines], [qty for _pk, qty in lines], country]
    params.append(str(code or ""))
    if products is not None:
        params.append([pk for pk in products if pk < 2**63])  # past bigint matches no listing, as in _listings
    rows = sql.fetch(_storefront_sql(with_order_id, products is not None, preview is not None), params)
    row = rows[0]
    n = len(Storefront._meta.concrete_fields)
    if buyer is not None and getattr(buyer, "is_authenticated", False):
        remember_roles(buyer, row[n])
    if row[Storefront._meta.concrete_fields.index(Storefront._meta.pk)] is None:
        raise field_error("storefront", _("Unknown storefront."))
    storefront = sql.instance(Storefront, row)
    storefront.market_codes, storefront.warehouse_codes, storefront.warehouse_countries = row[n + 1:n + 4]
    storefront.rules_version = row[n + 4]
    start = n + 5
    if with_order_id:
        storefront.next_order_id = row[start]
        start += 1
    if preview is not None:
        storefront.previewed = (preview[1], row[start] or [])
        start += 1
    if products is not None:
        storefront.offered = [_listing(row, start) for row in rows if row[start] is not None]
    return storefront


def _listing(row, start: int) -> Listing:
    """A listing with its product and its titles (``{language: title}``) from ``row[start:]``."""
    listing = sql.instance(Listing, row, start)
    listing._state.fields_cache["product"] = sql.instance(Product, row, start + len(Listing._meta.concrete_fields))
    listing.titles = row[-1] or {}
    return listing


def _storefront_sql(with_order_id: bool, listings: bool = False, preview: bool = False) -> str:
    key = ("storefront", with_order_id, listings, preview)
    if key not in _SQL:
        markets, stocked = Storefront.markets.through._meta.db_table, Storefront.warehouses.through._meta.db_table
        warehouse = Storefront.warehouses.field.related_model._meta.db_table
        next_id = f", nextval(pg_get_serial_sequence('{Order._meta.db_table}', 'id')) AS next_id"
        stocked_codes = f"ARRAY(SELECT sw.warehouse_id FROM {stocked} sw WHERE sw.storefront_id = s.code ORDER BY sw.warehouse_id)"  # noqa: S608
        # The allocation preview of the lines' SKUs (warehouses' query), its rows as one JSON array.
        ranking = warehouse_selectors.allocation_preview_sql(
            want=f"SELECT p.sku_id, q.qty FROM unnest(%s::bigint[], %s::int[]) AS q(product_id, qty) "  # noqa: S608
                 f"JOIN {Product._meta.db_table} p ON p.id = q.product_id",
            country="%s", warehouses=stocked_codes)
        previewed = (", (SELECT json_agg(json_build_array(pv.sku_id, pv.warehouse_id, pv.bond_status, pv.take) "  # noqa: S608
                     f"ORDER BY pv.sku_id, pv.upto) FROM ({ranking}) pv) AS preview")
        head = f"""
            SELECT {sql.columns(Storefront, "s")},
                   ARRAY(SELECT g.name FROM auth_group g JOIN auth_user_groups ug ON ug.group_id = g.id
                          WHERE ug.user_id = %s) AS roles,
                   ARRAY(SELECT m.country_id FROM {markets} m WHERE m.storefront_id = s.code ORDER BY m.country_id) AS markets,
                   {stocked_codes} AS warehouses,
                   ARRAY(SELECT w.country_id FROM {stocked} sw JOIN {warehouse} w ON w.code = sw.warehouse_id
                          WHERE sw.storefront_id = s.code ORDER BY sw.warehouse_id) AS countries,
                   {RULES_VERSION_SQL} AS rules_version
                   {next_id if with_order_id else ""}
                   {previewed if preview else ""}
              FROM (SELECT 1) one LEFT JOIN marketplace_storefront s ON s.code = %s AND s.is_active
        """  # noqa: S608 - table names from the models, values as parameters
        # The storefront's row is computed once (MATERIALIZED: one next order id), then joined to
        # each listing asked for; none on sale there leaves one row with the listing's columns NULL.
        _SQL[key] = head if not listings else f"""
            WITH sf AS MATERIALIZED ({head})
            SELECT sf.*, {sql.columns(Listing, "l")}, {sql.columns(Product, "p")},
                   (SELECT json_object_agg(t.language, t.title) FROM {ProductTranslation._meta.db_table} t
                     WHERE t.product_id = l.product_id)
              FROM sf LEFT JOIN ({Listing._meta.db_table} l JOIN {Product._meta.db_table} p
                                 ON p.id = l.product_id AND p.status = 'active')
                ON l.storefront_id = sf.code AND l.product_id = ANY(%s) AND l.is_visible AND l.is_enabled
        """  # noqa: S608 - table names from the models, values as parameters
    return _SQL[key]


def _previewing(lines, country: str) -> tuple[list[tuple[int, int]], str] | None:
    """What to preview with the storefront: ``lines`` as (product, quantity) pairs with the buyer's
    ``country``, when ``_wanted`` takes every line and each product id fits a bigint, else None
    (the order is refused later, with its errors, or names no product there is)."""
    try:
        wanted = _wanted(lines)
    except DomainError:
        return None
    return (wanted, country) if all(product < 2**63 for product, _qty in wanted) else None


def _previewed(storefront: Storefront, country: str) -> list | None:
    """The preview's rows read with ``storefront``, when read for ``country``."""
    previewed = getattr(storefront, "previewed", None)
    return previewed[1] if previewed is not None and previewed[0] == country else None


def _country(ship_to) -> str:
    """The country of ``ship_to`` as ``_ship_to`` cleans it."""
    return str(ship_to.get("country") or "").strip().upper() if isinstance(ship_to, dict) else ""


def _markets(storefront: Storefront) -> set[str]:
    codes = getattr(storefront, "market_codes", None)
    return set(codes) if codes is not None else set(storefront.markets.values_list("iso2", flat=True))


def _warehouse_codes(storefront: Storefront) -> list[str]:
    codes = getattr(storefront, "warehouse_codes", None)
    return list(codes) if codes is not None else list(storefront.warehouses.values_list("code", flat=True))


def _ship_to(ship_to, storefront: Storefront) -> dict:
    if not isinstance(ship_to, dict):
        raise field_error("ship_to", _("Give the delivery address."))
    errors = {}
    country = str(ship_to.get("country") or "").strip().upper()
    markets = _markets(storefront)
    if country not in markets:
        errors["ship_to.country"] = [_("This storefront delivers to %(markets)s only.") % {"markets": ", ".join(sorted(markets))}]
    cleaned = {"country": country}
    for name, limit in SHIP_TO_LIMITS.items():
        value = ship_to.get(name)
        value = "" if value is None else str(value).strip()
        if name != "postal_code" and not value:
            errors[f"ship_to.{name}"] = [_("This field is required.")]
        elif len(value) > limit:
            errors[f"ship_to.{name}"] = [_("At most %(n)s characters.") % {"n": limit}]
        elif hidden := plaintext.hidden_character(value):
            errors[f"ship_to.{name}"] = [plaintext.hidden_message(hidden)]
        cleaned[name] = value
    if cleaned["phone"] and "ship_to.phone" not in errors and not PHONE.match(cleaned["phone"]):
        errors["ship_to.phone"] = [_("Enter a phone number: digits, spaces and an optional leading +.")]
    raw_id = str(ship_to.get("id_number") or "").strip()
    cleaned["id_number"] = ""
    if "ship_to.country" not in errors and identity.needs_id(country):
        try:
            cleaned["id_number"] = identity.validate_id(country, raw_id)
        except DomainError as exc:
            errors.update(exc.fields or {"ship_to.id_number": [exc.message]})
    if errors:
        raise DomainError(ErrorCode.VALIDATION, _("Check the delivery address."), errors)
    return cleaned


def _wanted(lines) -> list[tuple[int, int]]:
    if not isinstance(lines, list | tuple) or not lines:
        raise field_error("lines", _("Add at least one product."))
    if len(lines) > MAX_LINES:
        raise field_error("lines", _("At most %(n)s lines per order.") % {"n": MAX_LINES})
    wanted, seen, errors = [], {}, {}
    for i, line in enumerate(lines):
        product = line.get("product") if isinstance(line, dict) else None
        quantity = line.get("quantity") if isinstance(line, dict) else None
        if isinstance(product, bool) or not isinstance(product, int) or product < 1:
            errors[f"lines.{i}.product"] = [_("Give a product id.")]
        elif product in seen:
            errors[f"lines.{i}.product"] = [_("Already in line %(n)s: change its quantity instead.") % {"n": seen[product]}]
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            errors[f"lines.{i}.quantity"] = [_("Enter a quantity from 1 to %(n)s.") % {"n": MAX_QUANTITY}]
        seen.setdefault(product, i)
        wanted.append((product, quantity))
    if errors:
        raise DomainError(ErrorCode.VALIDATION, _("Check the order lines."), errors)
    return wanted


def _product_ids(lines) -> list[int]:
    """The product ids ``lines`` names, leniently (``_wanted`` says what is wrong with the rest)."""
    if not isinstance(lines, list | tuple):
        return []
    return [line["product"] for line in lines[:MAX_LINES] if isinstance(line, dict)
            and type(line.get("product")) is int and line["product"] > 0]


def _offers(storefront: Storefront, wanted: list[tuple[int, int]], language: str | None = None) -> list[Listing]:
    """The listing of each line on the storefront, in line order; every product on sale there and
    all from one seller company. With ``language``, each listing's ``title`` is its product's title
    in that language, else in the first of en, ru, zh, kk, uz it has (the same query)."""
    listings = getattr(storefront, "offered", None)
    if listings is None:
        listings = _listings(storefront, [p for p, _q in wanted], language)
    elif language is not None:
        order = [language, *TITLE_FALLBACK]
        for listing in listings:
            listing.title = next((listing.titles[code] for code in order if code in listing.titles), None)
    by_product = {listing.product_id: listing for listing in listings}
    errors, offers = {}, []
    for i, (product_id, _qty) in enumerate(wanted):
        listing = by_product.get(product_id)
        if listing is None or listing.currency_id != storefront.currency_id:
            errors[f"lines.{i}.product"] = [_("This product is not on sale on %(storefront)s.") % {"storefront": storefront.code}]
            continue
        offers.append(listing)
    if errors:
        raise DomainError(ErrorCode.VALIDATION, _("Some products are not on sale on this storefront."), errors)
    company = offers[0].product.company_id
    for i, listing in enumerate(offers):
        if listing.product.company_id != company:
            # Escrow is released to one payee: a cart with several sellers becomes several orders.
            raise field_error(f"lines.{i}.product", _("Order the products of one seller at a time: this one is sold by another company."))
    return offers


TITLE_FALLBACK = ("en", "ru", "zh", "kk", "uz")


def _listings(storefront: Storefront, product_ids: list[int], language: str | None) -> list[Listing]:
    """The listings of ``product_ids`` on sale on ``storefront``, each with its product; with
    ``language``, its ``title`` in that language or the first of TITLE_FALLBACK it has. (On
    PostgreSQL a storefront read by code comes with them: ``_storefront(..., products=)``.)"""
    qs = (Listing.objects.filter(storefront=storefront, product_id__in=[pk for pk in product_ids if pk < 2**63],
                                 is_visible=True, is_enabled=True, product__status="active")
          .select_related("product"))
    if language is not None:
        order = list(dict.fromkeys([language, *TITLE_FALLBACK]))
        rank = Case(*[When(language=code, then=Value(i)) for i, code in enumerate(order)], default=Value(len(order)))
        qs = qs.annotate(title=Subquery(ProductTranslation.objects.filter(product_id=OuterRef("product_id"))
                                        .order_by(rank).values("title")[:1]))
    return list(qs)


def shipping_for(storefront: Storefront, gross_weight_g: int) -> Money:
    """The storefront's shipping tariff (settings.MARKETPLACE_ORDER_SHIPPING): a base price plus a
    price per started kilogram of the parcel's gross weight."""
    tariff = settings.MARKETPLACE_ORDER_SHIPPING.get(storefront.code)
    if tariff is None:
        raise DomainError(ErrorCode.VALIDATION, _("This storefront has no shipping tariff yet."), {"storefront": [storefront.code]})
    kilos = max(1, math.ceil(gross_weight_g / 1000))
    base = Money.of(tariff["base"], storefront.currency_id)
    per_kg = Money.of(tariff["per_kg"], storefront.currency_id)
    return base + per_kg.times(kilos)


def _source_warehouse(reservation) -> str:
    """The warehouse the parcel leaves from, which decides the customs regime (LHW → 1210).

    A reservation split over several warehouses is quoted from the one holding most of the units
    (ties: the first code), a simplification until split orders ship as separate parcels."""
    units: dict[str, int] = defaultdict(int)
    for line in reservation.lines:
        units[line.warehouse] += line.quantity
    return sorted(units.items(), key=lambda item: (-item[1], item[0]))[0][0]


def _road(reservation, country: str, countries: dict[str, str] | None = None) -> str:
    """Bonded units sold into their warehouse's country are cleared there (bond); units leaving for
    another country clear at the border; released units sold at home see no customs.
    ``countries`` gives the warehouses' countries when the caller has read them already."""
    if countries is None or not set(reservation.warehouses) <= set(countries):
        countries = dict(Place.objects.filter(code__in=reservation.warehouses).values_list("code", "country_id"))
    lines = reservation.lines
    if any(countries.get(line.warehouse) != country for line in lines):
        return BORDER
    if any(line.bond_status == "bonded" for line in lines):
        return BOND
    return DOMESTIC


def _landed(storefront: Storefront, rows: list[OrderLine], country: str, buyer, source_warehouse: str, road: str):
    """The shipping and the customs quote of ``rows`` sent to ``country`` from ``source_warehouse``."""
    currency = storefront.currency_id
    shipping = shipping_for(storefront, sum(row.gross_weight_g * row.quantity for row in rows))
    quote = customs.quote(
        origin_country=rows[0].origin_country_id, destination_country=country, currency=currency,
        lines=[QuoteLine(hs_code=row.hs_code, description=row.title, quantity=row.quantity,
                         unit_price=Money(row.unit_price_minor, currency), weight_kg=Decimal(row.gross_weight_g) / 1000,
                         origin_country=row.origin_country_id) for row in rows],
        shipping=shipping, insurance=Money.zero(currency), buyer_id=getattr(buyer, "pk", None),
        source_warehouse=source_warehouse, rules_version=getattr(storefront, "rules_version", None),
        # Released stock sold in its own country crosses no customs: the price holds domestic VAT.
        channel="domestic" if road == DOMESTIC else "courier",
    )
    return shipping, quote


def _landed_order(order: Order, storefront: Storefront, rows: list[OrderLine], buyer, country: str, source: str,
                  road: str, warehouses_: list[str]) -> dict:
    """Set ``order``'s road, source and landed cost for units leaving ``source``; return the payload
    of its first event."""
    shipping, quote = _landed(storefront, rows, country, buyer, source, road)
    goods = Money(sum(row.line_total_minor for row in rows), storefront.currency_id)
    order.source_warehouse, order.road = source, road
    order.goods_minor, order.shipping_minor, order.taxes_minor = goods.minor, shipping.minor, quote.taxes_total.minor
    order.total_minor = (goods + shipping + quote.taxes_total).minor
    order.regime, order.landed_cost = quote.regime, quote.to_stored()
    return {"total": order.total.to_api(), "regime": quote.regime, "road": road, "warehouses": warehouses_}


def order_quote(*, buyer, storefront, lines, country: str) -> dict:
    """The full landed cost of ``lines`` delivered to ``country``, before anything is placed: where
    the units would be taken from (nothing reserved), the road, goods, shipping, duty, VAT, fees and
    total. Raises the refusals order_place would raise (unknown products, short stock, customs limits)."""
    country = str(country or "").strip().upper()
    storefront = _storefront(storefront, products=_product_ids(lines), preview=_previewing(lines, country))
    wanted = _wanted(lines)
    if country not in _markets(storefront):
        raise field_error("ship_to.country", _("This storefront does not deliver there."))
    offers = _offers(storefront, wanted)
    rows = [OrderLine(position=i, product=listing.product, sku_id=listing.product.sku_id, title=listing.product.sku_code,
                      hs_code=listing.product.hs_code, origin_country_id=listing.product.origin_country_id,
                      gross_weight_g=listing.product.gross_weight_g, quantity=qty, unit_price_minor=listing.price_minor,
                      line_total_minor=listing.price_minor * qty)
            for i, (listing, (_pid, qty)) in enumerate(zip(offers, wanted, strict=True))]
    plan = warehouse_selectors.allocation_preview(
        lines=[(row.sku_id, row.quantity) for row in rows],
        storefront_warehouses=_warehouse_codes(storefront), buyer_country=country, read=_previewed(storefront, country))
    if plan is None:
        raise DomainError(ErrorCode.INSUFFICIENT_STOCK, _("Not enough stock for this cart."), {"lines": [_("Not enough stock.")]})
    preview = WarehouseReservation(reference="", status="preview", buyer_country=country, expires_at=None, lines=plan)
    source = _source_warehouse(preview)
    road = _road(preview, country)
    shipping, quote = _landed(storefront, rows, country, buyer, source, road)
    goods = Money(sum(row.line_total_minor for row in rows), storefront.currency_id)
    return {"quote": quote, "road": road, "source_warehouse": source, "goods": goods, "shipping": shipping,
            "taxes": quote.taxes_total, "total": goods + shipping + quote.taxes_total}


def order_place(*, buyer, storefront, lines, ship_to, actor=None) -> Order:
    """Place an order: reserve every line (all or nothing), fix the landed cost, start the clock.

    Raises (each leaving nothing behind): 400 ``validation_error`` naming ``storefront``,
    ``ship_to.<field>`` or ``lines.<i>.<field>``; 409 ``insufficient_stock`` naming ``lines.<i>``;
    customs' refusals as they come (422 ``limit_exceeded`` for China's 5,000 CNY per order or the
    yearly limit, ``invalid_hs_code``...).

    On PostgreSQL it takes two statements whatever the number of lines (asserted in
    tests/orders/test_checkout_statements.py): the storefront with its markets, warehouses, the
    order's id, the buyer's roles, the customs rules' version (the rules themselves are in the
    process's memo), the listings with their titles and the allocation preview, for the landed
    cost; then one statement writes the order with its lines and its first event and reserves the
    units where the preview said, or writes nothing. Short stock is refused from the preview: one
    statement, no transaction.
    """
    actor = actor or buyer
    unknown = None
    try:
        storefront = _storefront(storefront, with_order_id=True, buyer=buyer, products=_product_ids(lines),
                                 preview=_previewing(lines, _country(ship_to)))
    except DomainError as exc:
        unknown = exc  # a buyer hears of the storefront; anyone else only that they may not order
    if not has_role(buyer, BUYER):
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("Only buyers can place orders."))
    if unknown is not None:
        raise unknown
    wanted = _wanted(lines)
    address = _ship_to(ship_to, storefront)
    language = content_language(storefront.default_language)
    offers = _offers(storefront, wanted, language)
    titles = {listing.product_id: listing.title for listing in offers if listing.title}
    window = settings.MARKETPLACE_ORDER_PAYMENT_WINDOW
    now = timezone.now()
    order = Order(
        buyer=buyer, storefront=storefront, company_id=offers[0].product.company_id, currency_id=storefront.currency_id,
        ship_to_country_id=address["country"], ship_to_city=address["city"], ship_to_address=address["address"],
        ship_to_postal_code=address["postal_code"], ship_to_name=address["name"], ship_to_phone=address["phone"],
        ship_to_id_encrypted=crypto.encrypt(address["id_number"]) if address["id_number"] else "",
        ship_to_id_masked=identity.mask(address["id_number"]) if address["id_number"] else "",
        placed_at=now, expires_at=now + timedelta(seconds=window),
    )
    early = getattr(storefront, "next_order_id", None)
    if early is not None:
        order.pk = early  # the reference is known before the row is written: one INSERT, complete
    rows = [
        OrderLine(order=order, position=i, product=listing.product, sku_id=listing.product.sku_id,
                  title=titles.get(listing.product_id, listing.product.sku_code)[:200], hs_code=listing.product.hs_code,
                  origin_country_id=listing.product.origin_country_id, gross_weight_g=listing.product.gross_weight_g,
                  quantity=qty, unit_price_minor=listing.price_minor, line_total_minor=listing.price_minor * qty)
        for i, (listing, (_pid, qty)) in enumerate(zip(offers, wanted, strict=True))
    ]
    countries = getattr(storefront, "warehouse_countries", None)
    countries = dict(zip(storefront.warehouse_codes, countries, strict=True)) if countries is not None else None
    # The landed cost is computed before the transaction, from where the units would come from now,
    # so that the stock levels' row locks, taken by the reservation (after the order's INSERT), are
    # held only for the reservation and the COMMIT: other buyers of the same product wait for no Python. Should the
    # reservation land elsewhere after all (another buyer took those units meanwhile), it is
    # quoted again for where it did land. Short stock is refused from this read, before any
    # transaction: a sold-out product's buyers cost one statement and wait for no lock.
    preview = warehouse_selectors.allocation_preview(
        lines=[(row.sku_id, row.quantity) for row in rows], storefront_warehouses=_warehouse_codes(storefront),
        buyer_country=address["country"], refuse_short=True, read=_previewed(storefront, address["country"]))
    def reserve():  # the reference read when called: on SQLite the order's id comes with its INSERT
        return warehouses.stock_reserve(
            lines=[(row.sku_id, row.quantity) for row in rows], storefront_warehouses=_warehouse_codes(storefront),
            buyer_country=address["country"], reference=order.reference,
            ttl_seconds=window + settings.MARKETPLACE_ORDER_RESERVATION_GRACE, actor=actor)

    planned = WarehouseReservation(reference="", status="preview", buyer_country=address["country"], expires_at=None,
                                   lines=preview)
    road = _road(planned, address["country"], countries)
    payload = _landed_order(order, storefront, rows, buyer, address["country"], _source_warehouse(planned), road,
                            planned.warehouses)
    if early is not None:
        # One statement: the order with its lines and event, then the units, reserved where the
        # preview said (the stock levels' locks are held for the reservation and the COMMIT only).
        # Should the units be short or elsewhere now, the statement fails and writes nothing.
        call = warehouses.stock_reserve_call(
            lines=[(row.sku_id, row.quantity) for row in rows], storefront_warehouses=_warehouse_codes(storefront),
            buyer_country=address["country"], reference=order.reference,
            ttl_seconds=window + settings.MARKETPLACE_ORDER_RESERVATION_GRACE, actor=actor, as_previewed=preview)
        event = creation_event(order, actor=actor, at=now, place=order.source_warehouse, payload=payload)
        try:
            # Inside a caller's transaction a savepoint keeps it usable when the statement fails.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                call.answer(sql.insert_with_event(order, event, rows, then=(call.sql, call.params)))
            return order
        except DatabaseError as exc:
            call.refusal(exc)  # raises, unless the units were only elsewhere than previewed
            for obj in (order, *rows):  # written by nothing: the statement was undone
                obj._state.adding = True
            for row in rows:
                row.pk = None
    # On SQLite (the order's id comes with its INSERT), or when another buyer took the previewed
    # units meanwhile: reserve first, then quote again if the units are elsewhere.
    with transaction.atomic():
        if early is None:
            order.save(force_insert=True)
            OrderLine.objects.bulk_create(rows)
        reservation = reserve()
        source, road = _source_warehouse(reservation), _road(reservation, address["country"], countries)
        if (source, road) != (order.source_warehouse, order.road):
            payload = _landed_order(order, storefront, rows, buyer, address["country"], source, road,
                                    reservation.warehouses)
        payload["warehouses"] = reservation.warehouses
        if early is not None:
            create(order, rows=rows, actor=actor, at=now, place=order.source_warehouse, payload=payload)
        else:
            order.save(update_fields=["source_warehouse", "road", "goods_minor", "shipping_minor", "taxes_minor",
                                      "total_minor", "regime", "landed_cost"])
            record_creation(order, actor=actor, at=now, place=order.source_warehouse, payload=payload)
    return order


# --- paying, cancelling, expiring --------------------------------------------------------------


def order_pay(*, order: Order, actor) -> Order:
    """Pay a placed order from the buyer's wallet in the order's currency.

    The total goes into escrow, the buyer's customs allowance is booked and the reservation stops
    expiring. Sold from bond, the parcel is then declared to customs (Celery); otherwise the
    warehouse is asked to fulfil at once. 409 ``insufficient_funds`` (the order stays placed), 409
    ``illegal_transition`` when it is not placed any more or its window has closed.

    On PostgreSQL the usual payment (by its buyer, from bond, no yearly customs allowance to book)
    is one statement, ``orders_pay``; anything else, or anything that statement refuses having
    written nothing, takes the steps below, which answer it.
    """
    if _pay_in_one_call(order, actor):
        return order
    with transaction.atomic():
        order = _locked(order)
        _check_buyer(order, actor, staff_may=False)
        check(order, S.PAID, actor=actor)
        now = timezone.now()
        if order.expires_at is not None and order.expires_at <= now:
            raise DomainError(ErrorCode.ILLEGAL_TRANSITION, _("The time to pay this order is over."),
                              {"status": [_("Expired at %(at)s.") % {"at": order.expires_at.isoformat()}]})
        hold = payments.hold_in_escrow(payer=Owner(USER, order.buyer_id), amount=order.total, reference=order.reference,
                                       actor=actor)
        customs.allowance_record(buyer_id=order.buyer_id, reference=order.reference, quote=order.landed_cost, actor=actor)
        warehouses.stock_keep(reference=order.reference, actor=actor)
        if order.road == BOND:
            from ..tasks import declare_paid_later

            declare_paid_later([order.pk])
        else:
            warehouses.fulfilment_request(reference=order.reference, callback_task=FULFILMENT_CALLBACK, actor=actor)
        transition(order, S.PAID, actor=actor, payload={"amount": order.total.to_api(), "escrow_txn": hold.id},
                   extra_updates={"paid_at": now, "expires_at": None}, locked=True)
    return order


_PAY_SQL = "SELECT outcome, txn_id FROM orders_pay(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)"


def _pay_in_one_call(order, actor) -> bool:
    """:func:`order_pay`'s usual case in one call of ``orders_pay`` (migration orders 0004), which
    checks under the row lock that the order is still as read here. False when it wrote nothing."""
    if (connection.vendor != "postgresql" or not isinstance(order, Order) or order.status != S.PLACED
            or order.road != BOND or (order.landed_cost or {}).get("allowance")
            or actor is SYSTEM_ACTOR or getattr(actor, "pk", None) != order.buyer_id):
        return False
    check(order, S.PAID, actor=actor)
    now = timezone.now()
    hold = payments.escrow_hold_request(payer=Owner(USER, order.buyer_id), amount=order.total,
                                        reference=order.reference, actor=actor, at=now)
    who = actor_fields(actor)
    event = {"machine": Order.machine.name, "content_type": ContentType.objects.get_for_model(Order).pk,
             "actor_id": actor.pk, "actor_label": who["actor_label"], "payload": {"amount": order.total.to_api()}}
    outcome, _txn = sql.fetch(_PAY_SQL, [order.pk, order.reference, S.PLACED, S.PAID, order.buyer_id, BOND,
                                         order.total.minor, order.total.currency, now, sql.json_text(event),
                                         sql.json_text(hold)])[0]
    if outcome != "paid":
        return False
    order.status, order.paid_at, order.expires_at = S.PAID, now, None
    from ..tasks import declare_paid_later

    declare_paid_later([order.pk])
    return True


def order_cancel(*, order: Order, actor, reason: str = "") -> Order:
    """Cancel a placed or paid order: its units go back, a payment is refunded in full and the
    customs allowance it took is given back. Refused (409) once the warehouse has shipped it."""
    with transaction.atomic():
        order = _locked(order)
        _check_buyer(order, actor, staff_may=True)
        check(order, S.CANCELLED, actor=actor)
        was_paid = order.status == S.PAID
        warehouses.stock_release(reference=order.reference, actor=actor)
        payload = {}
        if was_paid:
            refund = payments.refund(reference=order.reference, actor=actor)
            customs.allowance_release(reference=order.reference, actor=actor)
            payload = {"refunded": order.total.to_api(), "refund_txn": refund.id}
        transition(order, S.CANCELLED, actor=actor, reason=str(reason or "")[:500], payload=payload,
                   extra_updates={"closed_at": timezone.now(), "expires_at": None})
    return order


def order_expire(*, order_id: int, now=None) -> bool:
    """Expire one placed order past its time; False when it was paid, cancelled or is busy.

    ``skip_locked``: an order being paid right now is left alone (the payment decides)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = (Order.objects.select_for_update(skip_locked=True)
                 .filter(pk=order_id, status=S.PLACED, expires_at__lte=now).first())
        if order is None:
            return False
        warehouses.stock_release(reference=order.reference, actor=SYSTEM_ACTOR)
        transition(order, S.EXPIRED, actor=SYSTEM_ACTOR, reason="payment window closed",
                   extra_updates={"closed_at": now})
    return True


def orders_expire(*, now=None) -> int:
    """Expire the placed orders past their time, in batches (Celery beat, every minute).

    One transaction per order, so one order's trouble never holds up the rest; running twice
    changes nothing more (expired orders are no longer ``placed``)."""
    now = now or timezone.now()
    size = settings.MARKETPLACE_ORDER_EXPIRE_BATCH
    expired = 0
    for _batch in range(settings.MARKETPLACE_ORDER_EXPIRE_MAX_BATCHES):
        # Uses index order_due_idx.
        due = list(Order.objects.filter(status=S.PLACED, expires_at__lte=now).order_by("expires_at", "id")
                   .values_list("pk", flat=True)[:size])
        moved = sum(order_expire(order_id=pk, now=now) for pk in due)
        expired += moved
        if len(due) < size or moved == 0:
            break
    return expired
