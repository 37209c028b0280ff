"""Demo stock: seller_cn's electronics bonded in TAS and ALA, a few movements a day for the charts,
a consignment on its way and one at customs, an order awaiting picking."""

import random
from datetime import timedelta
from unittest import mock

from django.utils import timezone

from core.access import SYSTEM_ACTOR
from core.models import Company
from core.money import Money

from . import services
from .models import Movement, Reservation, Sku, StockLevel, Warehouse


def seed(out, users, **context) -> dict:
    Warehouse.objects.get(code="TAS").operators.add(users["operator_tas"])
    Warehouse.objects.get(code="ALA").operators.add(users["operator_ala"])
    seller = users["seller_cn"]
    # The marketplace's demo (run before this one) created seller_cn's company, its products and
    # their SKUs with opening stock; here they get a history, consignments and orders to pick.
    company = Company.objects.filter(members__user=seller).first()
    if company is None or Movement.objects.filter(reference__startswith="DEMO-R").exists():
        return {}
    skus = list(Sku.objects.filter(company=company, levels__warehouse_id="TAS").distinct().order_by("pk")[:12])
    if len(skus) < 8:
        return {}
    rng = random.Random(6)
    for code in ("TAS", "ALA"):
        for i, level in enumerate(StockLevel.objects.filter(warehouse_id=code, sku__company=company).order_by("sku_id")):
            StockLevel.objects.filter(pk=level.pk).update(location=f"A{1 + i // 4:02d}-{1 + i % 4:02d}")
        services.stock_receive(warehouse=code, sku_id=skus[3].pk, quantity=40, bond_status="released",
                               reference="DEMO-B2B-1", actor=SYSTEM_ACTOR)
    # Thirty days of history so the charts have a shape: the services run with the clock set back
    # (the ledger is append-only, so history is written as it would have been, never rewritten).
    # The ``timezone`` the stock services read is Django's module itself, so this one patch sets the
    # clock of the ledger, the reservations and the shipments alike.
    for day in range(30, 0, -1):
        with mock.patch("warehouses.services.stock.timezone.now", return_value=timezone.now() - timedelta(days=day)):
            for code in ("TAS", "ALA"):
                services.stock_receive(warehouse=code, sku_id=rng.choice(skus).pk, quantity=rng.randint(5, 60),
                                       bond_status="bonded", reference=f"DEMO-R{day}-{code}", actor=SYSTEM_ACTOR)
                ref = f"DEMO-{code}-{day}"
                services.stock_reserve(lines=[(rng.choice(skus).pk, rng.randint(1, 5))], storefront_warehouses=[code],
                                       buyer_country="KZ" if code == "TAS" else "UZ", reference=ref, ttl_seconds=None,
                                       actor=SYSTEM_ACTOR)
                services.stock_confirm_shipment(reference=ref, actor=SYSTEM_ACTOR)
    # Orders waiting in TAS: one to pick, sold from bond to a buyer in Tashkent whose parcel customs
    # has released (the units left bond; the fulfilment simulator, on in the demo, takes it from here).
    services.stock_reserve(lines=[(skus[0].pk, 2), (skus[3].pk, 1)], storefront_warehouses=["TAS"], buyer_country="UZ",
                           reference="DEMO-ORDER-1001", ttl_seconds=None, actor=SYSTEM_ACTOR)
    services.stock_release_from_bond(reference="DEMO-ORDER-1001", actor=SYSTEM_ACTOR)
    services.fulfilment_request(reference="DEMO-ORDER-1001", callback_task="", actor=SYSTEM_ACTOR)
    Reservation.objects.filter(reference="DEMO-ORDER-1001").update(expires_at=None)
    # Consignments from Urumqi over Irkeshtam: one declared to customs (the demo's worker clears
    # it through the simulator within seconds), one just submitted (the transit simulator moves it).
    for quantities, advance in (([120, 60], True), ([300, 80], False)):
        lines = [(sku.pk, qty, Money.of(str(qty * 45), "USD")) for sku, qty in zip((skus[0], skus[6]), quantities, strict=True)]
        c = services.consignment_create(company_id=company.pk, warehouse="TAS", origin="URC",
                                        border_crossing="BC-IRKESHTAM", lines=lines,
                                        note="Demo consignment", actor=seller)
        services.consignment_submit(consignment=c, actor=seller)
        if advance:
            for expected in ("submitted", "in_transit", "at_border"):
                c.refresh_from_db()
                services.consignment_advance(consignment=c, expected=expected, actor=SYSTEM_ACTOR)
    out.write(f"  warehouses: {Sku.objects.filter(company=company).count()} SKUs of {company.name} in TAS and ALA")
    return {"demo_skus": [s.pk for s in skus]}

