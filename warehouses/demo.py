"""Demo stock: seller_cn's electronics bonded in TAS and ALA, a few movements a day for the charts,
a consignment on its way and one at customs, an order awaiting picking."""

import random
from datetime import timedelta
from unittest import mock

from django.utils import timezone

from core.access import SYSTEM_ACTOR
from core.models import Company, CompanyMember, Place
from core.states import transition

from . import services
from .models import Consignment, Movement, Reservation, Sku, StockLevel, Warehouse

ELECTRONICS = [
    ("PH-X1-128", "Smartphone X1 128 GB", "851713", 190), ("PH-X1-256", "Smartphone X1 256 GB", "851713", 190),
    ("TAB-10", "Tablet 10 inch", "847130", 480), ("EAR-BT5", "Bluetooth earbuds", "851830", 60),
    ("CHG-65W", "USB-C charger 65 W", "850440", 120), ("CBL-C2", "USB-C cable 2 m", "854442", 40),
    ("PWR-20K", "Power bank 20,000 mAh", "850760", 380), ("WAT-S3", "Smart watch S3", "851762", 55),
    ("SPK-M", "Portable speaker", "851822", 600), ("CAM-4K", "Action camera 4K", "852580", 150),
    ("RTR-AX", "Wi-Fi 6 router", "851762", 420), ("KB-MEC", "Mechanical keyboard", "847160", 900),
]


def seed(out, users, **context) -> dict:
    Warehouse.objects.get(code="TAS").operators.add(users["operator_tas"])
    Warehouse.objects.get(code="ALA").operators.add(users["operator_ala"])
    seller = users["seller_cn"]
    company = Company.objects.filter(members__user=seller).first()
    if company is None:
        company, _ = Company.objects.get_or_create(
            country_id="CN", tax_id="91440300MA5DEMO001",
            defaults={"name": "Shenzhen Bright Electronics Co., Ltd.", "verification": Company.Verification.VERIFIED},
        )
        CompanyMember.objects.get_or_create(company=company, user=seller, defaults={"role": CompanyMember.Role.OWNER})
    if Movement.objects.filter(reference__startswith="DEMO-").exists():
        return {}
    skus = [
        services.sku_upsert(company_id=company.pk, code=code, name=name, hs_code=hs, origin_country="CN", weight_g=w,
                            actor=SYSTEM_ACTOR)
        for code, name, hs, w in ELECTRONICS
    ]
    rng = random.Random(6)
    for code in ("TAS", "ALA"):
        for i, sku in enumerate(skus):
            services.stock_receive(warehouse=code, sku_id=sku.pk, quantity=rng.randint(2, 400), bond_status="bonded",
                                   reference="DEMO-CSG-0", actor=SYSTEM_ACTOR)
            StockLevel.objects.filter(warehouse_id=code, sku=sku).update(location=f"A{1 + i // 4:02d}-{1 + i % 4:02d}")
        services.stock_receive(warehouse=code, sku_id=skus[3].pk, quantity=40, bond_status="released",
                               reference="DEMO-B2B-1", actor=SYSTEM_ACTOR)
    # Thirty days of history so the charts have a shape: the services run with the clock set back
    # (the ledger is append-only, so history is written as it would have been, never rewritten).
    for day in range(30, 0, -1):
        with mock.patch("warehouses.services.timezone.now", return_value=timezone.now() - timedelta(days=day)):
            for code in ("TAS", "ALA"):
                services.stock_receive(warehouse=code, sku_id=rng.choice(skus).pk, quantity=rng.randint(5, 60),
                                       bond_status="bonded", reference=f"DEMO-R{day}-{code}", actor=SYSTEM_ACTOR)
                ref = f"DEMO-{code}-{day}"
                services.stock_reserve(lines=[(rng.choice(skus).pk, rng.randint(1, 5))], storefront_warehouses=[code],
                                       buyer_country="KZ" if code == "TAS" else "UZ", reference=ref, ttl_seconds=None,
                                       actor=SYSTEM_ACTOR)
                services.stock_confirm_shipment(reference=ref, actor=SYSTEM_ACTOR)
    # Orders waiting in TAS: one to pick.
    services.stock_reserve(lines=[(skus[0].pk, 2), (skus[3].pk, 1)], storefront_warehouses=["TAS"], buyer_country="UZ",
                           reference="DEMO-ORDER-1001", ttl_seconds=None, actor=SYSTEM_ACTOR)
    services.fulfilment_request(reference="DEMO-ORDER-1001", callback_task="", actor=SYSTEM_ACTOR)
    Reservation.objects.filter(reference="DEMO-ORDER-1001").update(expires_at=None)
    # Consignments: one at customs (cleared, ready to count), one in transit.
    if Place.objects.filter(code="BC-IRKESHTAM").exists():
        for quantities, stop in (([120, 60], "customs"), ([300, 80], "in_transit")):
            c = services.consignment_create(company_id=company.pk, warehouse="TAS", origin="URC",
                                            border_crossing="BC-IRKESHTAM",
                                            lines=[(skus[0].pk, quantities[0]), (skus[6].pk, quantities[1])],
                                            note="Demo consignment", actor=SYSTEM_ACTOR)
            transition(c, Consignment.Status.SUBMITTED, actor=seller)
            for status in ("in_transit", "at_border", "customs"):
                transition(c, status, actor=SYSTEM_ACTOR, place={"in_transit": "URC", "at_border": "BC-IRKESHTAM",
                                                                 "customs": "TAS"}[status])
                if status == stop:
                    break
            if stop == "customs":
                services.consignment_customs_changed(reference=c.number, status="released")
    out.write(f"  warehouses: {Sku.objects.filter(company=company).count()} SKUs of {company.name} in TAS and ALA")
    return {"demo_skus": [s.pk for s in skus]}

