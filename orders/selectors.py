"""Reads of orders: what a user may see, the timeline, the route with its ETA, place names."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from core.access import get_visible, visible
from core.selectors import place_names
from core.states import history
from core.texts import note
from marketplace.selectors import product_titles

from .models import Order, OrderLine
from .routes import MODES, eta, legs_for


def order_queryset(user):
    """The orders ``user`` may see (buyer: own; seller: its companies'; staff: all), lines loaded."""
    qs = Order.objects.select_related("storefront").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("position")))
    return visible(user, qs)


def order_get(user, pk) -> Order:
    return get_visible(user, order_queryset(user), pk=pk)


def order_events(order: Order) -> list[dict]:
    """The timeline: one entry per event, oldest first."""
    return [
        {"status": e.to_state, "from_status": e.from_state, "at": e.at, "actor": e.actor_label, "place": e.place,
         "note": note(e.reason, e.payload), "payload": e.payload}
        for e in history(order)
    ]


def order_route(order: Order, language: str) -> list[dict]:
    """The legs from the warehouse to the buyer, each with its mode, days and the latest day it should
    end (counted from shipment, or from now while the parcel has not left)."""
    legs = legs_for(source=order.source_warehouse, country=order.ship_to_country_id, city=order.ship_to_city,
                    road=order.road)
    names = place_names([code for leg in legs for code in (leg.origin, leg.destination)], language)
    start = order.shipped_at or timezone.now()
    return [{"origin": names.get(leg.origin, leg.origin), "destination": names.get(leg.destination, leg.destination),
             "mode": str(MODES.get(leg.mode, leg.mode)), "days_min": leg.days_min, "days_max": leg.days_max, "basis": leg.basis, "eta": until,
             "crossing": leg.destination.startswith("BC-")}
            for leg, until in eta(legs, start)]


# --- the seller's dashboard ---------------------------------------------------------------------

NOT_SALES = ("cancelled", "expired")


def sales_by_day(*, company_ids, days: int = 30, today=None) -> dict[str, dict]:
    """Goods sold (orders paid, neither cancelled nor expired) per day of payment over the last
    ``days`` days, per currency: ``{currency: {date: (goods_minor, orders)}}``. One query; uses index
    order_company_idx."""
    from datetime import datetime, time, timedelta

    from django.db.models import Count, Sum
    from django.db.models.functions import TruncDate

    today = today or timezone.localdate()
    since = timezone.make_aware(datetime.combine(today - timedelta(days=days - 1), time.min))
    rows = (Order.objects.filter(company_id__in=list(company_ids), paid_at__gte=since).exclude(status__in=NOT_SALES)
            .annotate(day=TruncDate("paid_at", tzinfo=timezone.get_current_timezone()))
            .values("currency_id", "day").annotate(goods=Sum("goods_minor"), orders=Count("id")).order_by())
    out: dict[str, dict] = {}
    for row in rows:
        out.setdefault(row["currency_id"], {})[row["day"]] = (int(row["goods"] or 0), row["orders"])
    return out


def status_counts(*, company_ids) -> dict[str, int]:
    """Orders of the companies per status. One query."""
    from django.db.models import Count

    rows = (Order.objects.filter(company_id__in=list(company_ids)).values("status")
            .annotate(n=Count("id")).order_by())
    return {row["status"]: row["n"] for row in rows}


def references_of(*, company_id: int):
    """The payment references (``order:<id>``) of a company's orders, as a one-column queryset that
    another app's query reads as a subquery."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    return (Order.objects.filter(company_id=company_id)
            .annotate(ref=Concat(Value("order:"), Cast("id", CharField()), output_field=CharField())).values("ref"))


def read_titles(lines, language: str) -> None:
    """Show ``lines`` (order lines) under their products' titles in the reader's ``language`` where
    the product is written in it or a fallback of it (one query); the title stored with the line,
    in its storefront's language, stays where none is. For reading only: never saved."""
    lines = list(lines)
    titles = product_titles([line.product_id for line in lines], language)
    for line in lines:
        line.title = titles.get(line.product_id, line.title)
