"""The pages of returns and of the seller's order desk: thin adapters over :mod:`orders.returns`
and :mod:`orders.selectors`.

* buyer: "Return items" on a delivered order, and shipping a return back;
* seller: the order desk (orders per warehouse and status, their fulfilment and timeline, CSV) and
  the returns to decide;
* operator: the returns to receive at their warehouses, line by line.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import BUYER, OPERATOR, SELLER, company_ids, has_role, is_staff
from core.errors import DomainError
from marketplace.selectors import product_titles

from . import returns, selectors
from .models import Order, Return
from .states import OrderStatus, ReturnReason, ReturnStatus

OPEN = (OrderStatus.PAID, OrderStatus.AT_CUSTOMS, OrderStatus.CLEARED, OrderStatus.PICKING, OrderStatus.PACKED,
        OrderStatus.SHIPPED, OrderStatus.IN_TRANSIT)


def _role_required(role):
    def wrap(view):
        @login_required
        def wrapped(request, *args, **kwargs):
            if not (has_role(request.user, role) or is_staff(request.user)):
                raise Http404
            return view(request, *args, **kwargs)

        wrapped.__name__, wrapped.__doc__ = view.__name__, view.__doc__
        return wrapped

    return wrap


def _errors(exc: DomainError) -> str:
    return " ".join(m for ms in (exc.fields or {}).values() for m in ms) or exc.message


def _int(value, default=0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --- buyer --------------------------------------------------------------------------------------


@_role_required(BUYER)
@require_POST
def return_create(request, pk):
    """The "Return items" form of a delivered order: a quantity per line, a reason, a comment."""
    order = selectors.order_get(request.user, pk)
    if order.buyer_id != request.user.pk:
        raise Http404
    lines = [{"line": line.pk, "quantity": _int(request.POST.get(f"qty-{line.pk}"))} for line in order.lines.all()]
    lines = [line for line in lines if line["quantity"] > 0]
    try:
        returns.return_request(order=order, lines=lines, reason=request.POST.get("reason", ""),
                               comment=request.POST.get("comment", ""), actor=request.user)
    except DomainError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("Return requested. The seller has three days to answer; after that it is approved."))
    return redirect("order-detail", pk=order.pk)


@_role_required(BUYER)
@require_POST
def return_ship(request, pk):
    ret = returns.returns_visible(request.user).filter(pk=pk, order__buyer=request.user).first()
    if ret is None:
        raise Http404
    try:
        returns.return_ship(ret=ret, tracking_number=request.POST.get("tracking_number", ""), actor=request.user)
    except DomainError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("Thank you: the warehouse will check the items when they arrive, then you are refunded."))
    return redirect("order-detail", pk=ret.order_id)


# --- seller: the order desk ----------------------------------------------------------------------------


def _desk_orders(request):
    qs = (Order.objects.filter(company_id__in=company_ids(request.user)) if not is_staff(request.user) else Order.objects.all())
    qs = qs.select_related("storefront", "ship_to_country").prefetch_related("lines").order_by("-id")
    warehouse = request.GET.get("warehouse", "").replace("\x00", "")  # PostgreSQL text holds no NUL
    status = request.GET.get("status", "")
    if warehouse:
        qs = qs.filter(source_warehouse=warehouse)
    if status == "open":
        qs = qs.filter(status__in=OPEN)
    elif status in OrderStatus.values:
        qs = qs.filter(status=status)
    return qs, warehouse, status


@_role_required(SELLER)
def seller_orders(request):
    """Orders of the seller's companies per warehouse and status, with CSV export."""
    qs, warehouse, status = _desk_orders(request)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="orders.csv"'
        response.write("\ufeff")  # Excel reads UTF-8 only with a BOM
        writer = csv.writer(response)
        writer.writerow(["order", "placed_at", "status", "road", "warehouse", "storefront", "currency", "goods", "shipping",
                         "taxes", "total", "ship_to_country", "ship_to_city", "lines"])
        for order in qs[:10000]:
            writer.writerow([order.pk, order.placed_at.isoformat(), order.status, order.road, order.source_warehouse,
                             order.storefront_id, order.currency_id, order.goods.amount, order.shipping.amount,
                             order.taxes.amount, order.total.amount, order.ship_to_country_id, order.ship_to_city,
                             "; ".join(f"{line.title} x {line.quantity}" for line in order.lines.all())])
        return response
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for order in rows:
        order.status_label = OrderStatus(order.status).label
        order.line_list = list(order.lines.all())
    selectors.read_titles([line for order in rows for line in order.line_list], language())
    warehouses = sorted(set(Order.objects.filter(company_id__in=company_ids(request.user))
                            .values_list("source_warehouse", flat=True)))
    statuses = [("open", _("Open (paid, not delivered)"))] + list(OrderStatus.choices)
    return render(request, "orders/desk.html", {"orders": rows, "page": page, "warehouses": warehouses,
                                                "warehouse": warehouse, "status": status, "statuses": statuses,
                                                "query": request.GET.urlencode()})


CHART_DAYS = 30
CHART_WIDTH, CHART_HEIGHT = 720, 160


def _sales_charts(sales: dict, today) -> list[dict]:
    """Per currency, 30 bars of an inline SVG (heights scaled to the best day) and the totals."""
    from datetime import timedelta

    from core.money import Money

    days = [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    slot = CHART_WIDTH / CHART_DAYS
    charts = []
    for currency in sorted(sales):
        by_day = sales[currency]
        best = max((goods for goods, _n in by_day.values()), default=0) or 1
        bars = []
        for i, day in enumerate(days):
            goods, count = by_day.get(day, (0, 0))
            height = round(goods / best * (CHART_HEIGHT - 10), 1) if goods else 0
            bars.append({"x": round(i * slot + slot * 0.15, 1), "width": round(slot * 0.7, 1), "y": CHART_HEIGHT - height,
                         "height": height, "day": day, "amount": Money(goods, currency), "orders": count})
        charts.append({"currency": currency, "bars": bars, "best": Money(best, currency),
                       "total": Money(sum(g for g, _n in by_day.values()), currency),
                       "orders": sum(n for _g, n in by_day.values()), "first": days[0], "last": days[-1]})
    return charts


@_role_required(SELLER)
def seller_dashboard(request):
    """The seller's landing page: sales per day, orders per status, stock per SKU and warehouse,
    money (wallets, escrow, payouts), consignments on their way and discrepancies. A fixed number of
    queries whatever the number of products and orders (a page of stock rows)."""
    from django.utils import timezone

    from core.models import Company
    from payments import selectors as payments_selectors
    from payments.interface import Owner
    from warehouses import selectors as stock

    companies = list(Company.objects.filter(pk__in=company_ids(request.user)).order_by("name"))
    ids = [c.pk for c in companies]
    today = timezone.localdate()
    counts = selectors.status_counts(company_ids=ids)
    statuses = [{"value": value, "label": label, "count": counts[value]} for value, label in OrderStatus.choices
                if counts.get(value)]
    page = Paginator(stock.seller_stock(company_ids=ids), 20).get_page(request.GET.get("stock_page"))
    levels = list(page.object_list)
    transit = stock.in_transit_by_sku(company_ids=ids, sku_ids={level.sku_id for level in levels}) if levels else {}
    # The warehouses' SKU name is the English one: the product's title, in the reader's language.
    titles = product_titles({level.sku_id for level in levels}, language(), by_sku=True, any_language=True) if levels else {}
    shown = set()
    for level in levels:
        level.title = titles.get(level.sku_id) or level.sku.name
        key = (level.sku_id, level.warehouse_id)
        # Units on their way belong to the warehouse, not to a bond status: shown once per SKU and warehouse.
        level.in_transit = transit.get(key, 0) if key not in shown else 0
        shown.add(key)
    money = []
    for company in companies:
        owner = Owner.company(company.pk)
        escrow = payments_selectors.escrow_held(references=selectors.references_of(company_id=company.pk))
        balances = {b.currency: b for b in payments_selectors.balances(owner=owner)}
        for currency in sorted(set(balances) | set(escrow)):
            b = balances.get(currency)
            money.append({"company": company, "currency": currency, "available": b.available if b else None,
                          "escrow": escrow.get(currency), "payouts": b.pending_payouts if b else None})
    return render(request, "orders/dashboard.html", {
        "companies": companies, "charts": _sales_charts(selectors.sales_by_day(company_ids=ids, days=CHART_DAYS, today=today), today),
        "chart_width": CHART_WIDTH, "chart_height": CHART_HEIGHT,
        "statuses": statuses, "open_count": sum(counts.get(s, 0) for s in OPEN), "stock_page": page, "levels": levels,
        "money": money, "consignments": stock.seller_consignments_open(company_ids=ids),
        "discrepancies": stock.seller_discrepancies(company_ids=ids),
    })


@_role_required(SELLER)
def seller_order(request, pk):
    """One order of the seller's: lines, landed cost, the road, customs and the timeline (read only)."""
    from .views import _order_page

    order = selectors.order_get(request.user, pk)
    if order.company_id not in company_ids(request.user) and not is_staff(request.user):
        raise Http404
    return _order_page(request, order)


@_role_required(SELLER)
def seller_returns(request):
    """Returns of the seller's orders: the ones to decide first."""
    qs = returns.returns_visible(request.user).filter(order__company_id__in=company_ids(request.user))
    rows = list(qs.prefetch_related("lines__line").order_by(
        # Uses index return_due_idx for the requested ones.
        "status", "-id")[:200])
    rows.sort(key=lambda r: (r.status != ReturnStatus.REQUESTED, -r.pk))
    _decorate(rows)
    return render(request, "orders/returns_seller.html", {"returns": rows})


@_role_required(SELLER)
@require_POST
def seller_return_decide(request, pk):
    ret = returns.returns_visible(request.user).filter(pk=pk, order__company_id__in=company_ids(request.user)).first()
    if ret is None:
        raise Http404
    try:
        if request.POST.get("decision") == "approve":
            returns.return_approve(ret=ret, actor=request.user)
            messages.success(request, _("Return approved: the buyer is asked to send the items back."))
        else:
            returns.return_refuse(ret=ret, reason=request.POST.get("reason", ""), actor=request.user)
            messages.success(request, _("Return refused; the buyer sees your reason."))
    except DomainError as exc:
        messages.error(request, _errors(exc))
    return redirect("seller-returns")


# --- operator ---------------------------------------------------------------------------------------------


@_role_required(OPERATOR)
def operator_returns(request):
    """Returns on their way to the operator's warehouses, to receive line by line."""
    qs = returns.returns_visible(request.user).filter(status__in=[ReturnStatus.IN_TRANSIT, ReturnStatus.APPROVED])
    rows = list(qs.prefetch_related("lines__line").order_by("-status", "-id")[:200])
    done = list(returns.returns_visible(request.user).filter(status__in=[ReturnStatus.RECEIVED, ReturnStatus.REFUNDED])
                .prefetch_related("lines__line").order_by("-id")[:20])
    _decorate(rows + done)
    return render(request, "orders/returns_operator.html", {"returns": rows, "done": done})


@_role_required(OPERATOR)
@require_POST
def operator_return_receive(request, pk):
    ret = returns.returns_visible(request.user).filter(pk=pk).first()
    if ret is None:
        raise Http404
    lines = []
    for row in ret.lines.all():
        lines.append({"line": row.line_id, "quantity": _int(request.POST.get(f"restock-{row.line_id}")), "condition": "restock"})
        lines.append({"line": row.line_id, "quantity": _int(request.POST.get(f"damaged-{row.line_id}")), "condition": "damaged"})
    try:
        returns.return_receive(ret=ret, lines=lines, actor=request.user)
    except DomainError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("Return received; the buyer is refunded in a moment."))
    return redirect("operator-returns")


def _decorate(rows: list[Return]) -> None:
    for ret in rows:
        ret.status_label = ReturnStatus(ret.status).label
        ret.reason_label = ReturnReason(ret.reason).label
        ret.estimate = ret.order.money(ret.estimate_minor)
        ret.line_list = list(ret.lines.all())
    selectors.read_titles([row.line for ret in rows for row in ret.line_list], language())


def language() -> str:
    return get_language() or "en"
