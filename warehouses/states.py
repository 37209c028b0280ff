"""The state machines of warehouses: reservations, inbound consignments (their road and their
customs clearance), transfers, fulfilments.

Every status column of this app is declared here and changes only through :mod:`core.states`
(``transition`` or ``transition_batch``: an event with actor and time in the same transaction).

Exempt, with the reason: the ``bond_status`` columns are not statuses with a life of their own.
On ``StockLevel``, ``Movement`` and ``TransferLine`` they are part of what the row counts and never
change. ``ReservationLine.bond_status`` is a copy of the bond status of the level the line holds; it
changes only with that level, when customs releases the units (``stock_release_from_bond``), and the
``release_from_bond`` movements of the ledger already record that move with its actor and time.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.access import BUYER, OPERATOR, SELLER, STAFF, SYSTEM
from core.states import StateMachine, move
from customs.states import DECLARATION_MACHINE, DeclarationStatus


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SHIPPED = "shipped", _("Shipped")
    RELEASED = "released", _("Released")
    EXPIRED = "expired", _("Expired")


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


R = ReservationStatus
# Units held for a caller's reference (an order) until they ship, the caller lets them go, or their
# time runs out. The caller decides who may act on its order; the roles here are who can be at the
# other end: the warehouse (or its simulator) ships, the buyer or staff cancel, the system expires
# unpaid holds and gives back what customs refused.
RESERVATION_MACHINE = StateMachine(
    "reservation",
    R,
    [
        move(R.ACTIVE, R.SHIPPED, OPERATOR, STAFF, SYSTEM),
        move(R.ACTIVE, R.RELEASED, BUYER, STAFF, SYSTEM),
        move(R.ACTIVE, R.EXPIRED, SYSTEM),
    ],
)

C = ConsignmentStatus
TRANSIT = "transit"  # the carrier's steps, each after the one before
# The automatic steps (carrier and border) are fired by the transit simulator; operators and
# staff may fire them by hand when a real carrier reports by phone.
CONSIGNMENT_MACHINE = StateMachine(
    "consignment",
    C,
    [
        move(C.DRAFT, C.SUBMITTED, SELLER, STAFF),
        move(C.SUBMITTED, C.IN_TRANSIT, SYSTEM, OPERATOR, STAFF, name=TRANSIT),
        move(C.IN_TRANSIT, C.AT_BORDER, SYSTEM, OPERATOR, STAFF, name=TRANSIT),
        move(C.AT_BORDER, C.CUSTOMS, SYSTEM, OPERATOR, STAFF, name=TRANSIT),
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
STEP = "step"  # the warehouse's work, each step after the one before (the simulator follows them)
FULFILMENT_MACHINE = StateMachine(
    "fulfilment",
    F,
    [
        move(F.REQUESTED, F.PICKING, OPERATOR, STAFF, SYSTEM, name=STEP),
        move(F.PICKING, F.PACKED, OPERATOR, STAFF, SYSTEM, name=STEP),
        move(F.PACKED, F.SHIPPED, OPERATOR, STAFF, SYSTEM, name=STEP),
        move([F.REQUESTED, F.PICKING, F.PACKED], F.CANCELLED, OPERATOR, STAFF, SYSTEM),
    ],
)


# --- a consignment's customs clearance -----------------------------------------------------------
#
# ``Consignment.customs_status`` follows the import declaration customs keeps for the consignment,
# plus the two outcomes warehouses decides by itself: no declaration needed (no border crossed) and
# a declaration customs would not take. Customs' own machine decides how a declaration moves; this
# one is derived from it, so the two cannot drift: the status only goes forward along customs' road
# (it may skip steps: a callback reports the declaration as it is now, which may be several moves
# on), and a late or repeated callback that would take it back is ignored. Only the system moves it;
# the events land on the consignment (the proxy model ``ConsignmentCustoms`` carries this machine).

NOT_DECLARED, NOT_REQUIRED, DECLARATION_REFUSED = "", "not_required", "declaration_refused"

ConsignmentCustomsStatus = models.TextChoices(
    "ConsignmentCustomsStatus",
    [
        ("NOT_DECLARED", (NOT_DECLARED, _("Not declared yet"))),
        ("NOT_REQUIRED", (NOT_REQUIRED, _("No customs: no border crossed"))),
        ("DECLARATION_REFUSED", (DECLARATION_REFUSED, _("Declaration refused by customs"))),
        *[(status.name, (status.value, status.label)) for status in DeclarationStatus],
    ],
)


def _reachable(status: str) -> set[str]:
    """The declaration states customs' machine can reach from ``status`` in one move or more."""
    seen, todo = set(), [status]
    while todo:
        for target in DECLARATION_MACHINE.targets(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


CONSIGNMENT_CUSTOMS_MACHINE = StateMachine(
    "consignment_customs",
    ConsignmentCustomsStatus,
    [
        move(NOT_DECLARED, NOT_REQUIRED, SYSTEM),
        move(NOT_DECLARED, DECLARATION_REFUSED, SYSTEM),
        # The first report may find the declaration anywhere on its road, and a declaration refused
        # at submission may still be filed later (by a broker): both follow it from there.
        *[
            move([NOT_DECLARED, DECLARATION_REFUSED, *sorted(s for s in DeclarationStatus.values if target in _reachable(s))],
                 target, SYSTEM)
            for target in DeclarationStatus.values
        ],
    ],
    field="customs_status",
)
