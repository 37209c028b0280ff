"""Demo orders: every demo buyer has an order on its road (paid, so customs and the fulfilment
simulator move it on as soon as the worker runs) and one waiting to be paid; they are orders of the
demo sellers' products, so the sellers' desks and the operators' pick lists are not empty."""

from core.errors import DomainError
from core.models import CompanyMember
from marketplace.models import Listing

from . import services
from .models import Order

PLANS = [
    ("buyer_kz", "seller_cn", "cn-kz", {"country": "KZ", "city": "Almaty", "address": "Abay Ave 10, apt 5",
                                        "postal_code": "050000", "name": "Aigerim Nurlanovna", "phone": "+7 701 123 4567",
                                        "id_number": "900307400102"}),
    ("buyer_cn", "seller_kz", "kz", {"country": "CN", "city": "Urumqi", "address": "88 Xinhua Road, Tianshan District",
                                     "postal_code": "830002", "name": "Li Wei", "phone": "+86 138 0013 8000",
                                     "id_number": "650102199003072510"}),
    ("buyer_uz", "seller_cn", "cn-uz", {"country": "UZ", "city": "Tashkent", "address": "Amir Temur Ave 1",
                                        "postal_code": "100000", "name": "Dilnoza Karimova", "phone": "+998 90 123 4567",
                                        "id_number": "AA1234567"}),
]


def _place(buyer, seller, storefront: str, ship_to: dict, skip: int = 0):
    """An order of one unit of the seller's newest product that is in stock on the storefront."""
    companies = CompanyMember.objects.filter(user=seller).values("company_id")
    listings = (Listing.objects.filter(storefront_id=storefront, product__company_id__in=companies, is_visible=True)
                .order_by("-product_id").values_list("product_id", flat=True))
    for product_id in list(listings)[skip:skip + 10]:
        try:
            return services.order_place(buyer=buyer, storefront=storefront, lines=[{"product": product_id, "quantity": 1}],
                                        ship_to=dict(ship_to))
        except DomainError:
            continue  # out of stock, or over a customs limit: the next one
    return None


def seed(out, users=None, **context) -> dict:
    users = users or {}
    made = 0
    for buyer_name, seller_name, storefront, ship_to in PLANS:
        buyer, seller = users.get(buyer_name), users.get(seller_name)
        if buyer is None or seller is None or Order.objects.filter(buyer=buyer).exists():
            continue
        order = _place(buyer, seller, storefront, ship_to)
        if order is not None:
            services.order_pay(order=order, actor=buyer)
            made += 1
        if _place(buyer, seller, storefront, ship_to, skip=1) is not None:
            made += 1
    out.write(f"  orders: {made} demo orders ({Order.objects.filter(status='placed').count()} waiting to be paid)\n")
    return {}
