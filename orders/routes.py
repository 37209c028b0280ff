"""The way a parcel goes from the warehouse to the buyer: its legs, their transit days, and the
border crossing whose customs post clears it on the border road.

Days come from ``reference/transit_times.csv`` where it has the leg (the basis of each leg says
which row); the last mile inside the buyer's country is the platform's courier estimate, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from .states import Road


@dataclass(frozen=True)
class Leg:
    origin: str  # a place code, or the buyer's city
    destination: str
    mode: str
    days_min: float
    days_max: float
    basis: str


# The crossing a parcel takes from a warehouse outside the buyer's country (source, country).
CROSSINGS = {
    ("KHG", "CN"): "BC-KHORGOS-ALTYNKOL",
    ("ALA", "CN"): "BC-KHORGOS-ALTYNKOL",
    ("XIY", "KZ"): "BC-ALASHANKOU-DOSTYK",
    ("LHW", "KZ"): "BC-ALASHANKOU-DOSTYK",
    ("LHW", "KG"): "BC-TORUGART",
    ("LHW", "UZ"): "BC-IRKESHTAM",
    ("LHW", "TJ"): "BC-IRKESHTAM",
}

# Trunk legs with a source row in reference/transit_times.csv.
TRUNK = {
    ("KHG", "BC-KHORGOS-ALTYNKOL"): ("rail", 0.5, 1, _("The dry port lies beside Altynkol station")),
    ("BC-KHORGOS-ALTYNKOL", "CN"): ("rail", 2, 2, _("Urumqi–Kazakhstan rail, 48 hours (transit_times.csv)")),
    ("ALA", "BC-KHORGOS-ALTYNKOL"): ("rail", 2, 3, _("Khorgos–Central Asia rail, 2–3 days (transit_times.csv)")),
    ("XIY", "BC-ALASHANKOU-DOSTYK"): ("rail", 5, 6, _("Xi'an–Almaty rail via Alashankou, 6 days (transit_times.csv)")),
    ("BC-ALASHANKOU-DOSTYK", "KZ"): ("rail", 0.67, 1, _("Clearance at Dostyk under 16 hours (transit_times.csv)")),
    ("LHW", "BC-IRKESHTAM"): ("rail-road", 4, 6, _("Lanzhou–Kashgar rail, truck to Irkeshtam (transit_times.csv)")),
    ("BC-IRKESHTAM", "UZ"): ("road-rail", 3, 4, _("Irkeshtam–Osh truck, Osh–Tashkent rail (transit_times.csv)")),
}
LAST_MILE = ("courier", 1, 3, _("Courier estimate inside the country"))
MODES = {
    "rail": _("rail"), "road": _("road"), "courier": _("courier"), "rail-road": _("rail, then road"),
    "road-rail": _("road, then rail"), "rail-road-rail": _("rail, road, rail"),
}


def crossing_for(source: str, country: str) -> str:
    return CROSSINGS.get((source, country), "")


def legs_for(*, source: str, country: str, city: str, road: str) -> list[Leg]:
    """The legs from ``source`` to the buyer in ``city``; on the border road through its crossing."""
    city = city or country
    if road != Road.BORDER:
        return [Leg(source, city, *LAST_MILE)]
    crossing = crossing_for(source, country)
    if not crossing:
        return [Leg(source, city, "road", 3, 7, str(_("Carrier estimate across the border")))]
    first = TRUNK.get((source, crossing), ("road", 1, 3, _("Carrier estimate to the crossing")))
    second = TRUNK.get((crossing, country), LAST_MILE)
    return [Leg(source, crossing, first[0], first[1], first[2], str(first[3])),
            Leg(crossing, city, second[0], second[1], second[2], str(second[3]))]


def eta(legs: list[Leg], start) -> list[tuple[Leg, object]]:
    """Each leg with the latest day it should end, counting from ``start`` (shipment or now)."""
    out, days = [], 0.0
    for leg in legs:
        days += leg.days_max
        out.append((leg, start + timedelta(days=days)))
    return out
