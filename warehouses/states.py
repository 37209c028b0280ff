"""The state machines of warehouses: inbound consignments, transfers, fulfilments."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.access import OPERATOR, SELLER, STAFF, SYSTEM
from core.states import StateMachine, move


class ConsignmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_TRANSIT = "in_transit", _("In transit")
    AT_BORDER = "at_border", _("At the border")
    CUSTOMS = "customs", _("In customs")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class TransferStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class FulfilmentStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting picking")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")


C = ConsignmentStatus
# The automatic steps (carrier and border) are fired by the transit simulator; operators and
# staff may fire them by hand when a real carrier reports by phone.
CONSIGNMENT_MACHINE = StateMachine(
    "consignment",
    C,
    [
        move(C.DRAFT, C.SUBMITTED, SELLER, STAFF),
        move(C.SUBMITTED, C.IN_TRANSIT, SYSTEM, OPERATOR, STAFF),
        move(C.IN_TRANSIT, C.AT_BORDER, SYSTEM, OPERATOR, STAFF),
        move(C.AT_BORDER, C.CUSTOMS, SYSTEM, OPERATOR, STAFF),
        move(C.CUSTOMS, C.RECEIVED, OPERATOR, STAFF),
        move([C.DRAFT, C.SUBMITTED], C.CANCELLED, SELLER, STAFF),
    ],
)

T = TransferStatus
TRANSFER_MACHINE = StateMachine(
    "transfer",
    T,
    [
        move(T.IN_TRANSIT, T.RECEIVED, OPERATOR, STAFF, SYSTEM),
        move(T.IN_TRANSIT, T.CANCELLED, OPERATOR, STAFF),
    ],
)

F = FulfilmentStatus
FULFILMENT_MACHINE = StateMachine(
    "fulfilment",
    F,
    [
        move(F.REQUESTED, F.PICKING, OPERATOR, STAFF, SYSTEM),
        move(F.PICKING, F.PACKED, OPERATOR, STAFF, SYSTEM),
        move(F.PACKED, F.SHIPPED, OPERATOR, STAFF, SYSTEM),
        move([F.REQUESTED, F.PICKING, F.PACKED], F.CANCELLED, OPERATOR, STAFF, SYSTEM),
    ],
)
