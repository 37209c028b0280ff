"""The order state machine, declared once, with its two roads.

The road is chosen at placement from where the reserved units sit (:class:`Road`):

* **bond**: bonded units sold into their warehouse's country (China goods in TAS or ALA, pavilion
  goods in the Lanzhou bond under CBEC 1210). Customs comes first, at the warehouse:
  ``paid → at_customs`` (the parcel is declared at once) ``→ cleared`` (released: the units leave
  bond) ``→ picking → packed → shipped → in_transit → delivered``.
* **border**: units shipped from outside the buyer's country (KHG to China, CBEC 9610):
  ``paid → picking → packed → shipped → in_transit → at_customs`` (the crossing's customs post)
  ``→ cleared → delivered``.
* **domestic**: released units sold inside their own country: no customs at all.

Who fires what: the buyer pays and cancels; the warehouse (its operator, or the fulfilment
simulator) reports picking, packed and shipped; customs (the declaration's callback, or a broker)
clears or rejects; the system moves the parcel on its timers (moves named ``track``), expires
unpaid orders and books the return after a refusal; staff may fire every move but the payment.
"""

from django.db import models
from django.utils.translation import pgettext_lazy

from core.access import BROKER, BUYER, OPERATOR, SELLER, STAFF, SYSTEM
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


class Road(models.TextChoices):
    BOND = "bond", pgettext_lazy("order road", "Sold from bond: customs at the warehouse")
    BORDER = "border", pgettext_lazy("order road", "Across a border: customs at the crossing")
    DOMESTIC = "domestic", pgettext_lazy("order road", "Inside the country: no customs")


S = OrderStatus
BOND, BORDER, DOMESTIC = Road.BOND, Road.BORDER, Road.DOMESTIC
WAREHOUSE_FIRST = [BORDER, DOMESTIC]
TRACK = "track"  # the moves the parcel pipeline makes on its timers

ORDER_MACHINE = StateMachine("order", OrderStatus, [
    move(S.PLACED, S.PAID, BUYER),
    move([S.PLACED, S.PAID], S.CANCELLED, BUYER, STAFF),
    move(S.PLACED, S.EXPIRED, SYSTEM, STAFF),
    # Sold from bond: the declaration is filed at payment, and released before anyone picks.
    move(S.PAID, S.AT_CUSTOMS, SYSTEM, STAFF, when={"road": BOND}, name="declare"),
    move(S.CLEARED, S.PICKING, OPERATOR, SYSTEM, STAFF, when={"road": BOND}),
    # Across a border or inside the country: the warehouse picks as soon as it is paid.
    move(S.PAID, S.PICKING, OPERATOR, SYSTEM, STAFF, when={"road": WAREHOUSE_FIRST}),
    move(S.PICKING, S.PACKED, OPERATOR, SYSTEM, STAFF),
    move(S.PACKED, S.SHIPPED, OPERATOR, SYSTEM, STAFF),
    move(S.SHIPPED, S.IN_TRANSIT, SYSTEM, STAFF, name=TRACK),
    move(S.IN_TRANSIT, S.AT_CUSTOMS, SYSTEM, STAFF, when={"road": BORDER}, name=TRACK),
    move(S.IN_TRANSIT, S.DELIVERED, SYSTEM, STAFF, when={"road": [BOND, DOMESTIC]}, name=TRACK),
    move(S.CLEARED, S.DELIVERED, SYSTEM, STAFF, when={"road": BORDER}, name=TRACK),
    # Customs decides: the declaration's callback, or a broker by hand.
    move(S.AT_CUSTOMS, S.CLEARED, SYSTEM, BROKER, STAFF, name="release"),
    move(S.AT_CUSTOMS, S.CUSTOMS_REJECTED, SYSTEM, BROKER, STAFF, name="reject"),
    move(S.CUSTOMS_REJECTED, S.RETURNED, SYSTEM, STAFF),
])


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("return status", "Requested")
    APPROVED = "approved", pgettext_lazy("return status", "Approved")
    REFUSED = "refused", pgettext_lazy("return status", "Refused")
    IN_TRANSIT = "in_transit", pgettext_lazy("return status", "On its way back")
    RECEIVED = "received", pgettext_lazy("return status", "Received")
    REFUNDED = "refunded", pgettext_lazy("return status", "Refunded")


class ReturnReason(models.TextChoices):
    CHANGED_MIND = "changed_mind", pgettext_lazy("return reason", "Changed my mind")
    DEFECTIVE = "defective", pgettext_lazy("return reason", "Defective")
    WRONG_ITEM = "wrong_item", pgettext_lazy("return reason", "Wrong item")
    NOT_AS_DESCRIBED = "not_as_described", pgettext_lazy("return reason", "Not as described")


R = ReturnStatus

# A return after delivery: the buyer asks, the seller decides (or the system approves after three
# days of silence), the buyer ships back, the operator receives line by line, Celery refunds.
RETURN_MACHINE = StateMachine("return", ReturnStatus, [
    move(R.REQUESTED, R.APPROVED, SELLER, STAFF, SYSTEM, name="approve"),
    move(R.REQUESTED, R.REFUSED, SELLER, STAFF, name="refuse"),
    move(R.APPROVED, R.IN_TRANSIT, BUYER, STAFF, name="ship"),
    move(R.IN_TRANSIT, R.RECEIVED, OPERATOR, STAFF, name="receive"),
    move(R.RECEIVED, R.REFUNDED, SYSTEM, STAFF, name="refund"),
])
