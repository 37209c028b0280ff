"""Reads of orders: what a user may see, the timeline, the route with its ETA, place names."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from core.access import get_visible, visible
from core.models import Place
from core.states import history

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
         "note": e.reason, "payload": e.payload}
        for e in history(order)
    ]


def place_names(codes, language: str) -> dict[str, str]:
    """The names of the place codes among ``codes`` in ``language`` (one query); others are absent."""
    return {place.code: place.name(language) for place in Place.objects.filter(code__in={c for c in codes if c})}


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
