"""The way a parcel goes from the warehouse to the buyer: its legs, their transit days, and the
border crossing whose customs post clears it on the border road.

Days come from ``reference/transit_times.csv`` where it has the leg (the basis of each leg says
which row); the last mile inside the buyer's country is the platform's courier estimate, and says so.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

# The crossings and trunk legs live with the warehouses (consignments take the same roads); the
# names stay importable from here.
from warehouses.routes import CROSSINGS, LAST_MILE, MODES, TRUNK, Leg, crossing_for, legs_via

from .states import Road

__all__ = ["CROSSINGS", "LAST_MILE", "MODES", "TRUNK", "Leg", "crossing_for", "eta", "legs_for"]


def legs_for(*, source: str, country: str, city: str, road: str) -> list[Leg]:
    """The legs from ``source`` to the buyer in ``city``; on the border road through its crossing."""
    city = city or country
    if road != Road.BORDER:
        return [Leg(source, city, *LAST_MILE)]
    crossing = crossing_for(source, country)
    if not crossing:
        return [Leg(source, city, "road", 3, 7, str(_("Carrier estimate across the border")))]
    return legs_via(source=source, crossing=crossing, destination=city, country=country, after=LAST_MILE)


def eta(legs: list[Leg], start) -> list[tuple[Leg, object]]:
    """Each leg with the latest day it should end, counting from ``start`` (shipment or now)."""
    out, days = [], 0.0
    for leg in legs:
        days += leg.days_max
        out.append((leg, start + timedelta(days=days)))
    return out
