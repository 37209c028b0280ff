"""The buyer's cart, kept in the session: one storefront, product ids and quantities.

An order holds the products of one storefront (one currency): adding a product of another
storefront is refused with :class:`OtherStorefront` until the buyer empties the cart. Prices and
titles are never stored here; :func:`cart_lines` reads them from the listings each time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode, field_error
from core.money import Money
from marketplace.models import Listing, ProductTranslation, Storefront

from .services import MAX_LINES, MAX_QUANTITY

SESSION_KEY = "karavan_cart"


class OtherStorefront(DomainError):
    """The product is sold on another storefront than the cart's."""

    def __init__(self, cart_storefront: str, storefront: str):
        super().__init__(ErrorCode.CONFLICT,
                         _("Your cart holds products of another storefront. Empty it to add this product."),
                         {"storefront": [cart_storefront]})
        self.cart_storefront, self.storefront = cart_storefront, storefront


@dataclass
class CartLine:
    product_id: int
    quantity: int
    title: str
    unit_price: Money | None  # None: no longer on sale on the cart's storefront
    error: str = ""

    @property
    def total(self) -> Money | None:
        return self.unit_price.times(self.quantity) if self.unit_price is not None else None


def _raw(session) -> dict:
    cart = session.get(SESSION_KEY)
    if not isinstance(cart, dict) or not isinstance(cart.get("lines"), list):
        return {"storefront": "", "lines": []}
    return cart


def _save(session, cart: dict) -> None:
    if not cart["lines"]:
        cart = {"storefront": "", "lines": []}
    session[SESSION_KEY] = cart
    session.modified = True


def cart_get(session) -> dict:
    """``{"storefront": code, "lines": [{"product": id, "quantity": n}, ...]}`` (a copy)."""
    cart = _raw(session)
    return {"storefront": cart.get("storefront") or "", "lines": [dict(line) for line in cart["lines"]]}


def cart_count(session) -> int:
    return sum(int(line.get("quantity") or 0) for line in _raw(session)["lines"])


def _quantity(value) -> int:
    try:
        quantity = int(value)
    except (TypeError, ValueError):
        raise field_error("quantity", _("Enter a whole number.")) from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise field_error("quantity", _("Enter a quantity from 1 to %(n)s.") % {"n": MAX_QUANTITY})
    return quantity


def _on_sale(storefront: str, product_id: int) -> bool:
    return Listing.objects.filter(storefront_id=storefront, product_id=product_id, storefront__is_active=True,
                                  is_visible=True, is_enabled=True, product__status="active").exists()


def cart_add(session, *, product_id: int, storefront: str, quantity, replace: bool = False) -> dict:
    """Add ``quantity`` of a product on ``storefront``; a product already in the cart gets more.

    Raises :class:`OtherStorefront` when the cart holds another storefront's products (unless
    ``replace``: the cart is emptied first), 400 when the product is not on sale there."""
    quantity = _quantity(quantity)
    if not _on_sale(storefront, product_id):
        raise field_error("product", _("This product is not on sale on %(storefront)s.") % {"storefront": storefront})
    cart = cart_get(session)
    if cart["lines"] and cart["storefront"] != storefront:
        if not replace:
            raise OtherStorefront(cart["storefront"], storefront)
        cart = {"storefront": "", "lines": []}
    cart["storefront"] = storefront
    for line in cart["lines"]:
        if line["product"] == product_id:
            line["quantity"] = min(MAX_QUANTITY, line["quantity"] + quantity)
            break
    else:
        if len(cart["lines"]) >= MAX_LINES:
            raise field_error("product", _("At most %(n)s lines per order.") % {"n": MAX_LINES})
        cart["lines"].append({"product": product_id, "quantity": quantity})
    _save(session, cart)
    return cart


def cart_update(session, *, product_id: int, quantity) -> dict:
    """Set a line's quantity (0 removes it)."""
    try:
        wanted = int(quantity)
    except (TypeError, ValueError):
        raise field_error("quantity", _("Enter a whole number.")) from None
    if wanted == 0:
        return cart_remove(session, product_id=product_id)
    wanted = _quantity(wanted)
    cart = cart_get(session)
    for line in cart["lines"]:
        if line["product"] == product_id:
            line["quantity"] = wanted
    _save(session, cart)
    return cart


def cart_remove(session, *, product_id: int) -> dict:
    cart = cart_get(session)
    cart["lines"] = [line for line in cart["lines"] if line["product"] != product_id]
    _save(session, cart)
    return cart


def cart_clear(session) -> None:
    _save(session, {"storefront": "", "lines": []})


def _titles(product_ids: list[int], language: str) -> dict[int, str]:
    order = [language[:2], "en", "ru", "zh", "kk", "uz"]
    titles: dict[int, tuple[int, str]] = {}
    for pid, lang, title in ProductTranslation.objects.filter(product_id__in=product_ids).values_list(
            "product_id", "language", "title"):
        rank = order.index(lang[:2]) if lang[:2] in order else len(order)
        if pid not in titles or rank < titles[pid][0]:
            titles[pid] = (rank, title)
    return {pid: title for pid, (_rank, title) in titles.items()}


def cart_storefront(session) -> Storefront | None:
    code = _raw(session).get("storefront")
    return Storefront.objects.filter(code=code).select_related("currency").first() if code else None


def cart_lines(session, *, storefront: Storefront | None, language: str) -> list[CartLine]:
    """The cart's lines with today's titles and prices (three queries whatever the size)."""
    cart = cart_get(session)
    if storefront is None or not cart["lines"]:
        return []
    ids = [line["product"] for line in cart["lines"]]
    prices = {
        pid: Money(minor, currency)
        for pid, minor, currency in Listing.objects.filter(
            storefront=storefront, product_id__in=ids, is_visible=True, is_enabled=True, product__status="active",
            currency_id=storefront.currency_id).values_list("product_id", "price_minor", "currency_id")
    }
    titles = _titles(ids, language)
    return [
        CartLine(product_id=line["product"], quantity=line["quantity"], title=titles.get(line["product"], f"#{line['product']}"),
                 unit_price=prices.get(line["product"]),
                 error="" if line["product"] in prices else _("No longer on sale on this storefront: remove it."))
        for line in cart["lines"]
    ]


def cart_subtotal(lines: list[CartLine], currency: str) -> Money:
    total = Money.zero(currency)
    for line in lines:
        if line.total is not None:
            total = total + line.total
    return total


def order_lines(session) -> list[dict]:
    """The cart as ``order_place`` takes it."""
    return [{"product": line["product"], "quantity": line["quantity"]} for line in cart_get(session)["lines"]]
