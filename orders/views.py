"""The buyer's cart, checkout and orders pages: thin adapters over :mod:`orders.cart` and
:mod:`orders.services`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core import identity
from core.access import BUYER, has_role
from core.errors import DomainError, ErrorCode
from core.models import Profile
from core.money import Money
from core.selectors import place_names
from customs import selectors as customs_selectors
from customs.labels import localized_quote, regime_label
from customs.states import DeclarationStatus

from . import cart as carts
from . import selectors
from . import services as orders
from .states import OrderStatus, ReturnReason, ReturnStatus, Road

FINAL = (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.RETURNED)
STATUS_TONE = {
    OrderStatus.PLACED: "warn", OrderStatus.DELIVERED: "ok", OrderStatus.CANCELLED: "bad", OrderStatus.EXPIRED: "bad",
    OrderStatus.CUSTOMS_REJECTED: "bad", OrderStatus.RETURNED: "bad",
}


def _buyer_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not has_role(request.user, BUYER):
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__, wrapped.__doc__ = view.__name__, view.__doc__
    return wrapped


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _language() -> str:
    return get_language() or "en"


# --- cart -------------------------------------------------------------------------------------


def _cart_context(request, line_errors: dict | None = None) -> dict:
    storefront = carts.cart_storefront(request.session)
    lines = carts.cart_lines(request.session, storefront=storefront, language=_language())
    for i, line in enumerate(lines):
        if line_errors and i in line_errors:
            line.error = " ".join(line_errors[i])
    subtotal = carts.cart_subtotal(lines, storefront.currency_id) if storefront else None
    return {"storefront": storefront, "lines": lines, "subtotal": subtotal,
            "can_checkout": bool(lines) and all(line.unit_price is not None for line in lines)}


@_buyer_required
def cart_view(request):
    """The cart: lines, quantities, subtotal; a conflict with another storefront offers to empty it."""
    context = _cart_context(request)
    conflict = request.session.pop("cart_conflict", None)
    context["conflict"] = conflict if isinstance(conflict, dict) else None
    return render(request, "orders/cart.html", context)


@_buyer_required
@require_POST
def cart_add(request):
    product_id = _int(request.POST.get("product"))
    storefront = str(request.POST.get("storefront") or "")
    back = reverse("product", args=[product_id]) + f"?storefront={storefront}" if product_id else reverse("cart")
    try:
        carts.cart_add(request.session, product_id=product_id or 0, storefront=storefront,
                       quantity=request.POST.get("quantity", 1), replace=request.POST.get("replace") == "1")
    except carts.OtherStorefront as exc:
        request.session["cart_conflict"] = {"product": product_id, "storefront": exc.storefront,
                                            "cart_storefront": exc.cart_storefront,
                                            "quantity": request.POST.get("quantity", "1")}
        return redirect("cart")
    except DomainError as exc:
        messages.error(request, " ".join(m for ms in exc.fields.values() for m in ms) or exc.message)
        return redirect(back)
    messages.success(request, _("Added to your cart."))
    return redirect("cart")


@_buyer_required
@require_POST
def cart_update(request):
    product_id = _int(request.POST.get("product"))
    try:
        if request.POST.get("action") == "remove":
            carts.cart_remove(request.session, product_id=product_id)
            messages.success(request, _("Removed from your cart."))
        else:
            carts.cart_update(request.session, product_id=product_id, quantity=request.POST.get("quantity"))
            messages.success(request, _("Cart updated."))
    except DomainError as exc:
        messages.error(request, " ".join(m for ms in exc.fields.values() for m in ms) or exc.message)
    return redirect("cart")


@_buyer_required
@require_POST
def cart_clear(request):
    carts.cart_clear(request.session)
    messages.success(request, _("Your cart is empty now."))
    return redirect("cart")


# --- checkout ---------------------------------------------------------------------------------


class ShipToForm(forms.Form):
    country = forms.ChoiceField(label=gettext_lazy("Country"))
    city = forms.CharField(label=gettext_lazy("City"), max_length=orders.SHIP_TO_LIMITS["city"])
    address = forms.CharField(label=gettext_lazy("Address"), max_length=orders.SHIP_TO_LIMITS["address"])
    postal_code = forms.CharField(label=gettext_lazy("Postal code"), max_length=orders.SHIP_TO_LIMITS["postal_code"],
                                  required=False)
    name = forms.CharField(label=gettext_lazy("Recipient's name"), max_length=orders.SHIP_TO_LIMITS["name"])
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=orders.SHIP_TO_LIMITS["phone"])
    id_number = forms.CharField(label=gettext_lazy("Recipient's ID number"), max_length=32, required=False,
                                help_text=gettext_lazy("Customs of the destination match the parcel to the recipient's "
                                                       "ID. It is stored encrypted and never shown in full."))

    def __init__(self, *args, storefront, **kwargs):
        super().__init__(*args, **kwargs)
        language = _language()
        markets = list(storefront.markets.order_by("iso2"))
        self.fields["country"].choices = [(c.iso2, c.name(language)) for c in markets]
        # The landed cost beside the form follows the country (htmx).
        self.fields["country"].widget.attrs.update({
            "hx-get": reverse("checkout-quote"), "hx-trigger": "change", "hx-target": "#landed-preview",
            "hx-swap": "outerHTML", "hx-include": "this"})
        needing = [c.iso2 for c in markets if identity.needs_id(c.iso2)]
        if not needing:
            del self.fields["id_number"]  # no destination of this storefront asks for it
        elif len(markets) == 1:
            self.fields["id_number"].label = identity.label(needing[0])
            self.fields["id_number"].required = True


def _initial(user, storefront) -> dict:
    profile = Profile.objects.filter(user=user).first()
    markets = set(storefront.markets.values_list("iso2", flat=True))
    initial = {"name": user.get_full_name() or ""}
    if profile:
        initial.update(city=profile.city, phone=profile.phone)
        if profile.country_id in markets:
            initial["country"] = profile.country_id
    return initial


def _apply_order_errors(form: ShipToForm, exc: DomainError) -> dict[int, list[str]]:
    """Put each refusal on its field (``ship_to.country`` → country) or its cart line
    (``lines.<i>``, ``lines.<i>.quantity``); the rest goes above the form."""
    line_errors: dict[int, list[str]] = {}
    placed = False
    for name, msgs in exc.fields.items():
        parts = name.split(".")
        if parts[0] == "ship_to" and len(parts) == 2 and parts[1] in form.fields:
            for message in msgs:
                form.add_error(parts[1], message)
            placed = True
        elif parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit():
            line_errors.setdefault(int(parts[1]), []).extend(msgs)
            placed = True
        elif name not in ("ship_to", "lines"):
            form.add_error(None, " ".join(msgs))
    if not placed or exc.code is not ErrorCode.VALIDATION:
        form.add_error(None, exc.message)
    return line_errors


@_buyer_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    """The ship-to form beside the cart; placing the order reserves the stock and fixes the landed cost."""
    storefront = carts.cart_storefront(request.session)
    if storefront is None or not carts.cart_get(request.session)["lines"]:
        messages.warning(request, _("Your cart is empty."))
        return redirect("cart")
    form = ShipToForm(request.POST or None, storefront=storefront, initial=_initial(request.user, storefront))
    line_errors = None
    if request.method == "POST" and form.is_valid():
        try:
            order = orders.order_place(buyer=request.user, storefront=storefront.code,
                                       lines=carts.order_lines(request.session), ship_to=dict(form.cleaned_data))
        except DomainError as exc:
            line_errors = _apply_order_errors(form, exc)
        else:
            carts.cart_clear(request.session)
            messages.success(request, _("Order placed. Pay it before the reservation runs out."))
            return redirect("order-detail", pk=order.pk)
    context = _cart_context(request, line_errors)
    context["form"] = form
    country = (form.data.get("country") if form.is_bound else None) or form.initial.get("country") or \
        (form.fields["country"].choices[0][0] if form.fields["country"].choices else "")
    context.update(_preview(request, storefront, country))
    return render(request, "orders/checkout.html", context)


def _preview(request, storefront, country: str) -> dict:
    """The landed cost of the cart sent to ``country``, before the order is placed."""
    return _preview_of(request, storefront, carts.order_lines(request.session), country)


def _preview_of(request, storefront, lines, country: str) -> dict:
    from customs.labels import regime_label
    from marketplace.selectors import buyer_currency
    from payments.selectors import fx_rate

    try:
        found = orders.order_quote(buyer=request.user, storefront=storefront.code, lines=lines, country=country)
    except DomainError as exc:
        return {"preview": None, "preview_error": " ".join(m for ms in (exc.fields or {}).values() for m in ms) or exc.message}
    found["regime_label"] = regime_label(found["quote"].regime)
    found["road_label"] = Road(found["road"]).label
    wallet = buyer_currency(request.user)
    if wallet and wallet != found["total"].currency:
        try:
            found["in_wallet"] = found["total"].convert(fx_rate(found["total"].currency, wallet).rate, wallet)
        except DomainError:
            found["in_wallet"] = None
    return {"preview": found, "preview_error": ""}


@_buyer_required
def checkout_quote(request):
    """The landed-cost box of the checkout for another country (htmx)."""
    storefront = carts.cart_storefront(request.session)
    if storefront is None:
        raise Http404
    return render(request, "orders/_landed_preview.html", _preview(request, storefront, request.GET.get("country", "")))


# --- orders -----------------------------------------------------------------------------------


def _status_label(value: str) -> str:
    try:
        return OrderStatus(value).label
    except ValueError:
        return value


def _money(data, fallback_currency: str) -> Money | None:
    if not data:
        return None
    try:
        return Money.from_api(data)
    except Exception:  # noqa: BLE001 - a malformed stored quote shows nothing rather than a 500
        return None


def _landed(order) -> dict:
    """The quote fixed at placement, with its amounts as Money for the template."""
    quote = localized_quote(order.landed_cost) or {}
    currency = order.currency_id
    breakdown = [{**item, "base": _money(item.get("base"), currency), "amount": _money(item.get("amount"), currency)}
                 for item in quote.get("breakdown") or []]
    return {
        "regime": quote.get("regime") or order.regime, "regime_label": regime_label(quote.get("regime") or order.regime),
        "date": quote.get("date"),
        "customs_value": _money(quote.get("customs_value"), currency),
        "duty": _money(quote.get("duty"), currency), "vat": _money(quote.get("vat"), currency),
        "excise": _money(quote.get("excise"), currency), "fees": _money(quote.get("fees"), currency),
        "taxes_total": _money(quote.get("taxes_total"), currency), "fx": quote.get("fx") or [],
        "breakdown": breakdown, "warnings": quote.get("warnings") or [],
    }


def _order_page(request, order, *, pay_error: str = "", status: int = 200):
    now = timezone.now()
    lines = list(order.lines.all())
    for line in lines:
        line.unit_price = order.money(line.unit_price_minor)
        line.line_total = order.money(line.line_total_minor)
    order_returns = _returns_of(order)
    selectors.read_titles([*lines, *(row.line for ret in order_returns for row in ret.line_list)], _language())
    events = selectors.order_events(order)
    names = place_names([e["place"] for e in events] + [order.source_warehouse], _language())
    for event in events:
        event["label"] = _status_label(event["status"])
        event["place_name"] = names.get(event["place"], event["place"])
    route = selectors.order_route(order, _language())
    # What the buyer may do now comes from the order machine, not a list restated here.
    machine = order.machine
    can_pay = machine.allows(order.status, OrderStatus.PAID, request.user, order) and (
        order.expires_at is None or order.expires_at > now)
    return render(request, "orders/order_detail.html", {
        "order": order, "lines": lines, "events": events, "landed": _landed(order),
        "status_label": _status_label(order.status), "tone": STATUS_TONE.get(order.status, "ok"),
        "can_pay": can_pay, "can_cancel": machine.allows(order.status, OrderStatus.CANCELLED, request.user, order),
        "pay_error": pay_error, "is_buyer": order.buyer_id == request.user.pk,
        "route": route, "road_label": Road(order.road).label if order.road else "",
        "source_name": names.get(order.source_warehouse, order.source_warehouse),
        "customs": _customs(order),
        # The page follows the parcel by itself while Celery moves it on (htmx polling).
        "live": order.status not in (OrderStatus.PLACED, *FINAL),
        "order_returns": order_returns, "return_reasons": ReturnReason.choices,
        "can_return": order.status == OrderStatus.DELIVERED and order.buyer_id == request.user.pk,
    }, status=status)


def _returns_of(order) -> list:
    rows = list(order.returns.prefetch_related("lines__line").order_by("-id"))
    for ret in rows:
        ret.status_label = ReturnStatus(ret.status).label
        ret.reason_label = ReturnReason(ret.reason).label
        ret.estimate = order.money(ret.estimate_minor)
        ret.refund = order.money(ret.refund_minor)
        ret.line_list = list(ret.lines.all())
    return rows


def _customs(order) -> dict | None:
    found = customs_selectors.parcel_customs(order.reference)
    if found:
        found["status_label"] = DeclarationStatus(found["status"]).label
        found["channel_label"] = DeclarationStatus(found["channel"]).label if found["channel"] else ""
    return found


def _own_order(request, pk):
    order = selectors.order_get(request.user, pk)
    if order.buyer_id != request.user.pk:
        raise Http404
    return order


@_buyer_required
def order_list(request):
    """The buyer's orders, newest first (a fixed number of queries per page)."""
    qs = selectors.order_queryset(request.user).filter(buyer=request.user).order_by("-id")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for order in rows:
        order.status_label = _status_label(order.status)
        order.tone = STATUS_TONE.get(order.status, "ok")
        order.line_list = list(order.lines.all())
    selectors.read_titles([line for order in rows for line in order.line_list], _language())
    return render(request, "orders/orders.html", {"orders": rows, "page": page})


@_buyer_required
def order_detail(request, pk):
    return _order_page(request, _own_order(request, pk))


@_buyer_required
@require_POST
def order_pay(request, pk):
    order = _own_order(request, pk)
    try:
        orders.order_pay(order=order, actor=request.user)
    except DomainError as exc:
        if exc.code is ErrorCode.INSUFFICIENT_FUNDS:
            message = _("Not enough money in your %(currency)s wallet to pay %(total)s. Top it up or convert money "
                        "into %(currency)s, then pay again.") % {"currency": order.currency_id,
                                                                   "total": order.total.format(_language())}
        else:
            message = exc.message
        return _order_page(request, selectors.order_get(request.user, pk), pay_error=message, status=409)
    messages.success(request, _("Paid. The seller is preparing your parcel."))
    return redirect("order-detail", pk=order.pk)


@_buyer_required
@require_POST
def order_cancel(request, pk):
    order = _own_order(request, pk)
    try:
        orders.order_cancel(order=order, actor=request.user, reason=str(request.POST.get("reason") or "")[:500])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Order cancelled."))
    return redirect("order-detail", pk=order.pk)


@_buyer_required
def product_estimate(request):
    """The landed cost of one unit of a product delivered to the buyer's country (htmx, on the
    product page): an estimate, fixed only when the order is placed."""
    from marketplace.models import Storefront

    storefront = Storefront.objects.filter(code=request.GET.get("storefront", ""), is_active=True).first()
    product = _int(request.GET.get("product"))
    if storefront is None or product is None:
        raise Http404
    markets = list(storefront.markets.values_list("iso2", flat=True))
    profile = Profile.objects.filter(user=request.user).values_list("country_id", flat=True).first()
    country = profile if profile in markets else (markets[0] if markets else "")
    context = _preview_of(request, storefront, [{"product": product, "quantity": 1}], country)
    context["estimate"] = True
    return render(request, "orders/_landed_preview.html", context)
