"""Routes between places: the border crossing goods take from a place into a country, and the legs
with their mode and transit days.

One table for everything that moves: a consignment going to a warehouse (this app) and a parcel
going from a warehouse to a buyer (``orders.routes`` builds its legs from the same tables). Days come
from ``reference/transit_times.csv`` where it has the leg (each leg's basis says which row); the
others are the carrier's estimates, and say so. Pure data: no query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Leg:
    origin: str  # a place code, or a city
    destination: str
    mode: str
    days_min: float
    days_max: float
    basis: str


# The crossing goods take from a place outside the destination country: (place, country) -> crossing.
CROSSINGS = {
    ("KHG", "CN"): "BC-KHORGOS-ALTYNKOL",
    ("ALA", "CN"): "BC-KHORGOS-ALTYNKOL",
    ("XIY", "KZ"): "BC-ALASHANKOU-DOSTYK",
    ("LHW", "KZ"): "BC-ALASHANKOU-DOSTYK",
    ("LHW", "KG"): "BC-TORUGART",
    ("LHW", "UZ"): "BC-IRKESHTAM",
    ("LHW", "TJ"): "BC-IRKESHTAM",
    # Consignments coming the other way, and from the cities of the reference places.
    ("URC", "KZ"): "BC-KHORGOS-ALTYNKOL",
    ("URC", "KG"): "BC-TORUGART",
    ("URC", "UZ"): "BC-IRKESHTAM",
    ("URC", "TJ"): "BC-IRKESHTAM",
    ("XIY", "UZ"): "BC-IRKESHTAM",
    ("XIY", "KG"): "BC-TORUGART",
    ("TAS", "CN"): "BC-IRKESHTAM",
    ("OSS", "CN"): "BC-IRKESHTAM",
    ("FRU", "CN"): "BC-TORUGART",
    ("DYU", "CN"): "BC-IRKESHTAM",
}

# Trunk legs with a source row in reference/transit_times.csv: (from, to or country) -> leg.
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
TO_CROSSING = ("road", 1, 3, _("Carrier estimate to the crossing"))
FROM_CROSSING = ("road", 1, 3, _("Carrier estimate from the crossing"))
IN_COUNTRY = ("road", 1, 3, _("Carrier estimate inside the country"))
MODES = {
    "rail": _("rail"), "road": _("road"), "courier": _("courier"), "rail-road": _("rail, then road"),
    "road-rail": _("road, then rail"), "rail-road-rail": _("rail, road, rail"),
}


def crossing_for(source: str, country: str) -> str:
    """The crossing from place ``source`` into ``country`` ('' when none is known)."""
    return CROSSINGS.get((source, country), "")


def legs_via(*, source: str, crossing: str, destination: str, country: str, after=FROM_CROSSING) -> list[Leg]:
    """``source`` → ``crossing`` → ``destination`` in ``country``: the trunk legs where the reference
    has them, else the carrier's estimates (``after`` for the leg beyond the crossing)."""
    first = TRUNK.get((source, crossing), TO_CROSSING)
    second = TRUNK.get((crossing, country), after)
    return [Leg(source, crossing, first[0], first[1], first[2], str(first[3])),
            Leg(crossing, destination, second[0], second[1], second[2], str(second[3]))]


def consignment_legs(*, origin: str, origin_country: str, warehouse: str, warehouse_country: str,
                     crossing: str = "") -> list[Leg]:
    """A consignment's legs from ``origin`` to ``warehouse``: through ``crossing`` (or the known one)
    into another country, straight inside one. Empty when another country is named and no crossing
    is known: the seller must choose one."""
    if not crossing and origin_country == warehouse_country:
        return [Leg(origin, warehouse, IN_COUNTRY[0], IN_COUNTRY[1], IN_COUNTRY[2], str(IN_COUNTRY[3]))]
    crossing = crossing or crossing_for(origin, warehouse_country)
    if not crossing:
        return []
    return legs_via(source=origin, crossing=crossing, destination=warehouse, country=warehouse_country)
