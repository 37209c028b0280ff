"""Proof fixtures: one small world of two owners of every kind, built once per module.

Side "a" and side "b" each have a buyer, a seller's company (with a seller in it), a warehouse with
its operator, and one object of every kind (an order delivered to the door, a return, a draft and an
active product with a photo, a catalogue import, a consignment, a transfer, a customs declaration
with a document, a payout, funded wallets). A broker and a staff user are shared.

The world is written inside one transaction opened for the module and rolled back at its end; each
test runs in a savepoint inside it (pytest-django's ``db``), so a test may write and leaves nothing.
"""

from __future__ import annotations

import io
import itertools
import os
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

_seq = itertools.count(1)

ADDRESSES = {
    "a": {"country": "KZ", "city": "Almaty", "address": "Abay Ave 10, apt 5", "postal_code": "050000",
          "name": "Aigerim Nurlanovna", "phone": "+7 701 123 4567", "id_number": "900307400102"},
    "b": {"country": "UZ", "city": "Tashkent", "address": "Amir Temur Ave 1", "postal_code": "100000",
          "name": "Dilnoza Karimova", "phone": "+998 90 123 4567", "id_number": "AA1234567"},
}
# Side a sells on cn-kz from Almaty, side b on cn-uz from Tashkent: both on the domestic road (stock
# released), so that an order reaches the door without customs or a worker.
SIDES = {"a": {"storefront": "cn-kz", "warehouse": "ALA", "currency": "KZT", "price": "95000.00"},
         "b": {"storefront": "cn-uz", "warehouse": "TAS", "currency": "UZS", "price": "950000.00"}}


@dataclass
class Side:
    key: str
    buyer: object = None
    seller: object = None
    operator: object = None
    company: object = None
    warehouse: str = ""
    storefront: str = ""
    currency: str = ""
    objects: dict = field(default_factory=dict)
    markers: list = field(default_factory=list)  # strings only this side's owners may ever see


@dataclass
class World:
    a: Side
    b: Side
    broker: object
    staff: object

    def side(self, key):
        return self.a if key == "a" else self.b

    def users(self):
        out = {"broker": self.broker, "staff": self.staff}
        for side in (self.a, self.b):
            for role in ("buyer", "seller", "operator"):
                out[f"{role}_{side.key}"] = getattr(side, role)
        return out


def png_bytes(size=(96, 80)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def make_user(username, *roles):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username=username, password="pass-1234-word")
    for role in roles:
        if role == "staff":
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        else:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def _company(country, name, owner, storefront):
    from core.access import SYSTEM_ACTOR
    from core.models import Company, CompanyMember
    from marketplace import services
    from marketplace.models import Storefront, StorefrontMembership
    from tests.conftest import tax_id_for

    company = Company.objects.create(name=name, country_id=country, tax_id=tax_id_for(country),
                                     verification=Company.Verification.VERIFIED)
    CompanyMember.objects.create(company=company, user=owner, role=CompanyMember.Role.OWNER)
    membership = services.storefront_join_request(company=company, storefront=Storefront.objects.get(code=storefront),
                                                  actor=SYSTEM_ACTOR)
    services.storefront_membership_decide(membership=membership, to=StorefrontMembership.Status.APPROVED,
                                          actor=SYSTEM_ACTOR)
    return company


def _product(side: Side, *, status, title, photo=False):
    from core.access import SYSTEM_ACTOR
    from core.money import Money
    from marketplace import services

    photos = [SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")] if photo else []
    return services.product_create(
        company=side.company, actor=SYSTEM_ACTOR, sku_code=f"{side.key.upper()}-SKU-{next(_seq)}", category="phones",
        hs_code="851713", origin_country="CN", net_weight_g=350, gross_weight_g=400,
        translations={"en": {"title": title, "description": ""}},
        prices={side.storefront: Money.of(SIDES[side.key]["price"], side.currency)}, status=status, photos=photos,
    )


def _delivered(side: Side, product):
    from core.access import SYSTEM_ACTOR
    from orders import services as orders
    from orders.models import Order
    from warehouses import services as wh
    from warehouses.models import Fulfilment

    order = orders.order_place(buyer=side.buyer, storefront=side.storefront,
                               lines=[{"product": product.pk, "quantity": 2}], ship_to=dict(ADDRESSES[side.key]))
    orders.order_pay(order=order, actor=side.buyer)
    fulfilment = Fulfilment.objects.get(reference=order.reference)
    wh.fulfilment_pick(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    wh.parcel_pack(fulfilment=fulfilment, parcels=[{"weight_g": 800, "length_mm": 200, "width_mm": 120,
                                                    "height_mm": 80}], actor=SYSTEM_ACTOR)
    wh.fulfilment_ship(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    orders.order_fulfilment_changed(reference=order.reference, warehouse=order.source_warehouse, status="shipped")
    orders.order_advance(order=order, to="in_transit", actor=SYSTEM_ACTOR)
    orders.order_deliver(order=order, actor=SYSTEM_ACTOR)
    return Order.objects.get(pk=order.pk), fulfilment


def build_world() -> World:
    from django.core.management import call_command

    from core.access import SYSTEM_ACTOR
    from core.money import Money
    from customs import services as customs
    from customs.interface import DeclarationLineInput
    from marketplace import services as market
    from orders import returns
    from orders import services as orders
    from payments import services as pay
    from payments.interface import Owner
    from warehouses import services as wh
    from warehouses.models import Fulfilment, StockLevel, Warehouse

    call_command("load_reference", stdout=open(os.devnull, "w"))  # noqa: SIM115
    world = World(a=Side("a"), b=Side("b"), broker=make_user("proof_broker", "broker"),
                  staff=make_user("proof_staff", "staff"))
    for side in (world.a, world.b):
        conf = SIDES[side.key]
        side.storefront, side.warehouse, side.currency = conf["storefront"], conf["warehouse"], conf["currency"]
        side.buyer = make_user(f"proof_buyer_{side.key}", "buyer")
        side.seller = make_user(f"proof_seller_{side.key}", "seller")
        side.operator = make_user(f"proof_operator_{side.key}", "operator")
        Warehouse.objects.get(code=side.warehouse).operators.add(side.operator)
        side.company = _company("CN", f"Proof Company {side.key.upper()}", side.seller, side.storefront)
        pay.wallet_top_up(owner=Owner.user(side.buyer), amount=Money.of("9000000.00", side.currency),
                          provider="simulator", provider_event_id=f"proof-{side.key}-buyer", actor=SYSTEM_ACTOR)
        pay.wallet_top_up(owner=Owner.company(side.company.pk), amount=Money.of("500000.00", side.currency),
                          provider="simulator", provider_event_id=f"proof-{side.key}-company", actor=SYSTEM_ACTOR)
        o = side.objects
        o["product"] = _product(side, status="active", title=f"Proof phone {side.key.upper()}", photo=True)
        o["draft"] = _product(side, status="draft", title=f"Proof draft {side.key.upper()}", photo=True)
        o["image"] = o["draft"].images.first()
        wh.stock_receive(warehouse=side.warehouse, sku_id=o["product"].sku_id, quantity=10, bond_status="released",
                         reference="seed", actor=SYSTEM_ACTOR)
        o["level"] = StockLevel.objects.get(sku_id=o["product"].sku_id, warehouse_id=side.warehouse)
        o["order"], o["fulfilment"] = _delivered(side, o["product"])
        o["line"] = o["order"].lines.get()
        o["return"] = returns.return_request(order=o["order"], lines=[{"line": o["line"].pk, "quantity": 1}],
                                             reason="defective", comment=f"proof {side.key}", actor=side.buyer)
        # The other unit goes back: approved by the seller, shipped by the buyer, waiting for the operator.
        o["return_shipped"] = returns.return_request(order=o["order"], lines=[{"line": o["line"].pk, "quantity": 1}],
                                                     reason="defective", comment="", actor=side.buyer)
        returns.return_approve(ret=o["return_shipped"], actor=side.seller)
        returns.return_ship(ret=o["return_shipped"], tracking_number=f"PROOF-RET-{side.key}", actor=side.buyer)
        # A paid order on the seller's desk, and one waiting to be paid (pay and cancel are open on it).
        o["paid"] = orders.order_place(buyer=side.buyer, storefront=side.storefront,
                                       lines=[{"product": o["product"].pk, "quantity": 1}],
                                       ship_to=dict(ADDRESSES[side.key]))
        orders.order_pay(order=o["paid"], actor=side.buyer)
        o["paid_fulfilment"] = Fulfilment.objects.get(reference=o["paid"].reference)
        o["placed"] = orders.order_place(buyer=side.buyer, storefront=side.storefront,
                                         lines=[{"product": o["product"].pk, "quantity": 1}],
                                         ship_to=dict(ADDRESSES[side.key]))
        o["import"] = market.catalogue_import_create(
            company=side.company, actor=side.seller, run=False,
            file=SimpleUploadedFile("c.csv", (
                "sku,category,hs_code,origin_country,net_weight_g,gross_weight_g,title_en,"
                f"price_{side.storefront}\r\n{side.key.upper()}-IMP-1,phones,851713,CN,300,350,Imported phone,"
                "10.00\r\n").encode(), content_type="text/csv"))
        o["consignment"] = wh.consignment_create(
            company_id=side.company.pk, warehouse=side.warehouse, origin="URC", border_crossing="BC-KHORGOS-ALTYNKOL"
            if side.key == "a" else "BC-IRKESHTAM", lines=[(o["product"].sku_id, 5)], note=f"proof {side.key}",
            actor=side.seller)
        other = "LHW" if side.warehouse == "ALA" else "XIY"  # a warehouse nobody of the world operates
        o["transfer"] = wh.transfer_create(source=side.warehouse, destination=other,
                                           lines=[(o["product"].sku_id, "released", 1)], actor=SYSTEM_ACTOR)
        decl = customs.declaration_create(
            kind="import", reference=f"PROOF-{side.key}", importer_country="KZ" if side.key == "a" else "UZ",
            lines=[DeclarationLineInput(hs_code="851713", description="Smartphones", quantity=2,
                                        weight_kg=Decimal("1.000"), value=Money.of("1000.00", "USD"),
                                        origin_country="CN")],
            declared_weight_kg=Decimal("1.000"), payer=("company", side.company.pk), actor=SYSTEM_ACTOR)
        from customs.models import Declaration

        o["declaration"] = Declaration.objects.get(pk=decl.id)
        o["document"] = customs.document_upload(
            declaration_id=decl.id, kind="invoice", actor=SYSTEM_ACTOR,
            file=SimpleUploadedFile("inv.pdf", b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
                                    content_type="application/pdf"))
        o["payout"] = pay.payout_request(owner=Owner.company(side.company.pk),
                                         amount=Money.of("100.00", side.currency), actor=side.seller)
        side.markers = [o["draft"].sku.code, f"Proof draft {side.key.upper()}", o["consignment"].number,
                        o["transfer"].number, ADDRESSES[side.key]["name"], f"PROOF-RET-{side.key}"]
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The two-sided world, written once for the module and rolled back after it; its files (photos,
    imports, documents) in a scratch media directory. Nothing commits, so no task is ever sent."""
    from django.test import override_settings

    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    try:
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                yield build_world()
            finally:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
    finally:
        media.disable()


@pytest.fixture
def client_as():
    """client_as(user): a Django test client logged in as ``user`` (None: anonymous)."""
    from django.test import Client

    def login(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    """api_for(user): a DRF API client authenticated as ``user`` (None: anonymous)."""
    from rest_framework.test import APIClient

    def login(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return login
