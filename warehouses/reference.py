"""The platform's five warehouses, on the places of reference/places.csv: bonded warehouses in
Tashkent, Almaty and Lanzhou, and the dry ports of Khorgos and Xi'an."""

from core.models import Place

from .models import Warehouse

WAREHOUSES = [
    # code, kind, timezone, priority
    ("TAS", Warehouse.Kind.BONDED, "Asia/Tashkent", 10),
    ("ALA", Warehouse.Kind.BONDED, "Asia/Almaty", 10),
    ("KHG", Warehouse.Kind.DRY_PORT, "Asia/Almaty", 50),
    ("LHW", Warehouse.Kind.BONDED, "Asia/Shanghai", 20),
    ("XIY", Warehouse.Kind.DRY_PORT, "Asia/Shanghai", 60),
]


def load() -> dict[str, int]:
    for code, kind, tz, priority in WAREHOUSES:
        place = Place.objects.get(code=code)
        Warehouse.objects.update_or_create(
            code=code,
            defaults={"place": place, "country_id": place.country_id, "kind": kind, "name": place.name_en,
                      "timezone": tz, "priority": priority},
        )
    return {"warehouses": Warehouse.objects.count()}
