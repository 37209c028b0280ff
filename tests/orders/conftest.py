"""Orders fixtures: a Kazakh honey seller on the kz pavilion (stock in Lanzhou), a Chinese phone
seller on cn-kz (stock bonded in Almaty), buyers with funded wallets."""

import itertools

import pytest
from django.db import connection

from core.access import SYSTEM_ACTOR
from core.money import Money
from core.taxids import kz_make
from marketplace import services
from marketplace.models import Storefront
from payments import selectors as pay_selectors
from payments import services as pay_services
from payments.interface import Owner
from payments.models import MAY_GO_NEGATIVE, Account
from warehouses import services as wh_services
from warehouses.models import StockLevel

_seq = itertools.count(1)


def make_product(company, *, storefront, price, title, hs_code, category, weight, origin=None, status="active"):
    currency = Storefront.objects.get(code=storefront).currency_id
    return services.product_create(
        company=company, actor=SYSTEM_ACTOR, sku_code=f"SKU-{next(_seq)}", category=category, hs_code=hs_code,
        origin_country=origin or company.country_id, net_weight_g=weight, gross_weight_g=weight + 50,
        translations={"en": {"title": title, "description": ""}}, prices={storefront: Money.of(price, currency)},
        status=status,
    )


def book(warehouse: str, product, quantity: int, bond_status: str = "bonded"):
    wh_services.stock_receive(warehouse=warehouse, sku_id=product.sku_id, quantity=quantity, bond_status=bond_status,
                              reference="seed", actor=SYSTEM_ACTOR)


def available(product, warehouse: str) -> int:
    return sum(lv.on_hand - lv.reserved for lv in StockLevel.objects.filter(sku_id=product.sku_id, warehouse_id=warehouse))


def reserved(product) -> int:
    return sum(StockLevel.objects.filter(sku_id=product.sku_id).values_list("reserved", flat=True))


def fund(user, amount: str, currency: str):
    pay_services.top_up(owner=Owner.user(user), amount=Money.of(amount, currency), provider="simulator",
                        provider_event_id=f"test-{next(_seq)}", actor=SYSTEM_ACTOR)


def wallet(user_or_owner, currency: str):
    owner = user_or_owner if isinstance(user_or_owner, Owner) else Owner.user(user_or_owner)
    return pay_selectors.balance(owner=owner, currency=currency)


@pytest.fixture
def kz_seller(make_seller):
    return make_seller("seller_kz", "KZ", name="Altyn Bal LLP", storefronts=["kz"])


@pytest.fixture
def cn_seller(make_seller):
    return make_seller("seller_cn", "CN", name="Shenzhen Bright Electronics", storefronts=["cn-kz"])


@pytest.fixture
def honey(kz_seller):
    """Mountain honey, 88 CNY on the kz pavilion, 20 jars bonded in Lanzhou."""
    product = make_product(kz_seller.company, storefront="kz", price="88.00", title="Mountain honey", hs_code="040900",
                           category="honey", weight=500)
    book("LHW", product, 20)
    return product


@pytest.fixture
def apricots(kz_seller):
    """Dried apricots, 45.50 CNY, 5 bags in Lanzhou."""
    product = make_product(kz_seller.company, storefront="kz", price="45.50", title="Dried apricots", hs_code="081310",
                           category="dried-fruit-nuts", weight=250)
    book("LHW", product, 5)
    return product


@pytest.fixture
def phone(cn_seller):
    """A smartphone, 95,000 KZT on cn-kz, 10 bonded in Almaty."""
    product = make_product(cn_seller.company, storefront="cn-kz", price="95000.00", title="Smartphone X1", hs_code="851713",
                           category="phones", weight=350)
    book("ALA", product, 10)
    return product


@pytest.fixture
def released_phone(cn_seller):
    """A smartphone already in free circulation in Almaty: sold in Kazakhstan with no customs (domestic road)."""
    product = make_product(cn_seller.company, storefront="cn-kz", price="95000.00", title="Smartphone X1",
                           hs_code="851713", category="phones", weight=350)
    book("ALA", product, 10, bond_status="released")
    return product


@pytest.fixture
def buyer_cn(make_user, reference):
    user = make_user("buyer_cn", "buyer")
    fund(user, "10000.00", "CNY")
    return user


@pytest.fixture
def buyer_kz(make_user, reference):
    user = make_user("buyer_kz", "buyer")
    fund(user, "500000.00", "KZT")
    return user


def _cn_resident_id() -> str:
    from stdnum.cn import ric

    first17 = "65010219900307251"  # Urumqi Tianshan, born 1990-03-07
    return first17 + ric.calc_check_digit(first17 + "0")  # it reads the first 17 of 18


def _kz_iin() -> str:
    for serial in range(1000, 2000):
        value = kz_make(f"900307400{serial:04d}"[:11])  # born 1990-03-07, a woman of the 20th century
        if value:
            return value
    raise AssertionError("no IIN")


CN_ID = _cn_resident_id()
KZ_IIN = _kz_iin()
CN_ADDRESS = {"country": "CN", "city": "Urumqi", "address": "88 Xinhua Road, Tianshan District", "postal_code": "830002",
              "name": "Li Wei", "phone": "+86 138 0013 8000", "id_number": CN_ID}
KZ_ADDRESS = {"country": "KZ", "city": "Almaty", "address": "Abay Ave 10, apt 5", "postal_code": "050000",
              "name": "Aigerim Nurlanovna", "phone": "+7 701 123 4567", "id_number": KZ_IIN}


def order_body(storefront, lines, address=None):
    return {"storefront": storefront, "lines": [{"product": p.pk, "quantity": q} for p, q in lines],
            "ship_to": dict(address or (CN_ADDRESS if storefront != "cn-kz" else KZ_ADDRESS))}


def sends_of(monkeypatch, task) -> list[list[int]]:
    """The messages of ``task`` (one taking a list of ids) sent to the broker, each its ids in
    order, not delivered: a test runs them itself, or lets them be lost."""
    messages: list[list[int]] = []
    monkeypatch.setattr(task, "apply_async", lambda args=(), kwargs=None, **options: messages.append(sorted(args[0])))
    return messages


def in_thread(func):
    def run(*args):
        try:
            return func(*args)
        finally:
            connection.close()

    return run


@pytest.fixture
def escrow_shards(reference):
    """The KZT escrow shards, as they are once a few orders have been paid (the first payment into a
    shard creates its account: a one-off, not part of the steady state measured here)."""
    Account.objects.bulk_create([
        Account(owner_kind="platform", owner_id=shard, kind="escrow", currency_id="KZT", balance_minor=0,
                allow_negative="escrow" in MAY_GO_NEGATIVE)
        for shard in range(pay_services.PLATFORM_SHARDS)
    ], ignore_conflicts=True)


@pytest.fixture
def phones(cn_seller):
    """Three phones on cn-kz, bonded in Almaty."""
    products = [make_product(cn_seller.company, storefront="cn-kz", price="9500.00", title=f"Phone {i}", hs_code="851713",
                             category="phones", weight=300) for i in range(3)]
    for product in products:
        book("ALA", product, 10)
    return products
