"""The order state machine (PRODUCT.md §3), declared once.

Who fires what:

* the buyer pays (``placed → paid``) and cancels (``placed|paid → cancelled``);
* the warehouse operator (or the system on the warehouse's callback) moves ``paid → picking →
  packed → shipped``. The warehouses app does not report picking and packing back yet, only the
  handover to the carrier, so ``paid → shipped`` is declared as well: the shipment callback takes
  it when the order never went through the two optional steps;
* the system moves the parcel pipeline ``shipped → in_transit → at_customs → cleared →
  delivered`` (``in_transit → delivered`` when no customs stands between the parcel and the
  buyer: released stock sold inside its own country), expires unpaid orders, and records a
  customs refusal and the return that follows;
* staff may fire every move except the buyer's payment (staff never spends a buyer's money): it is
  how a stuck order is corrected from the admin, and each correction is an event like any other.
"""

from django.db import models
from django.utils.translation import pgettext_lazy

from core.access import BROKER, BUYER, OPERATOR, STAFF, SYSTEM
from core.states import StateMachine, move


class OrderStatus(models.TextChoices):
    # A context: "Paid", "Shipped"... mean other things in payments and warehouses.
    PLACED = "placed", pgettext_lazy("order status", "Placed")
    PAID = "paid", pgettext_lazy("order status", "Paid")
    PICKING = "picking", pgettext_lazy("order status", "Picking")
    PACKED = "packed", pgettext_lazy("order status", "Packed")
    SHIPPED = "shipped", pgettext_lazy("order status", "Shipped")
    IN_TRANSIT = "in_transit", pgettext_lazy("order status", "In transit")
    AT_CUSTOMS = "at_customs", pgettext_lazy("order status", "At customs")
    CLEARED = "cleared", pgettext_lazy("order status", "Cleared by customs")
    DELIVERED = "delivered", pgettext_lazy("order status", "Delivered")
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")
    EXPIRED = "expired", pgettext_lazy("order status", "Expired")
    CUSTOMS_REJECTED = "customs_rejected", pgettext_lazy("order status", "Rejected by customs")
    RETURNED = "returned", pgettext_lazy("order status", "Returned")


S = OrderStatus

ORDER_MACHINE = StateMachine("order", OrderStatus, [
    move(S.PLACED, S.PAID, BUYER),
    move([S.PLACED, S.PAID], S.CANCELLED, BUYER, STAFF),
    move(S.PLACED, S.EXPIRED, SYSTEM, STAFF),
    move(S.PAID, S.PICKING, OPERATOR, SYSTEM, STAFF),
    move(S.PICKING, S.PACKED, OPERATOR, SYSTEM, STAFF),
    move([S.PAID, S.PICKING, S.PACKED], S.SHIPPED, OPERATOR, SYSTEM, STAFF),
    move(S.SHIPPED, S.IN_TRANSIT, SYSTEM, STAFF),
    move(S.IN_TRANSIT, S.AT_CUSTOMS, SYSTEM, STAFF),
    move(S.AT_CUSTOMS, S.CLEARED, SYSTEM, BROKER, STAFF),
    move([S.CLEARED, S.IN_TRANSIT], S.DELIVERED, SYSTEM, STAFF),
    move(S.AT_CUSTOMS, S.CUSTOMS_REJECTED, SYSTEM, BROKER, STAFF),
    move(S.CUSTOMS_REJECTED, S.RETURNED, SYSTEM, STAFF),
])

# Statuses in which the buyer's money sits in escrow (refundable); used by the admin and services.
HELD = frozenset({S.PAID, S.PICKING, S.PACKED, S.SHIPPED, S.IN_TRANSIT, S.AT_CUSTOMS, S.CLEARED, S.CUSTOMS_REJECTED})
