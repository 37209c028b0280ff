"""The payments state machines, declared once; statuses change only through ``core.states``.

**Escrow hold** (:class:`EscrowStatus`)::

    held ──release──▶ released   the open amount paid to the seller, less the commission
      └───refund────▶ refunded   the last of the open amount went back to the payer

A hold is born ``held`` (a creation event). While it is held, money may leave escrow without a
move: a partial refund, and the parcel's duties paid to customs (``escrow_pay_duty``, the
``settled`` amount). These change the hold's amounts, not its status, so they are not moves:
each is a ledger transaction under the hold's reference with its actor, which is their history.
The refund that empties the hold is the move to ``refunded``. Released and refunded are final.

Who: the system releases (on delivery) and staff may correct; the buyer (only the payer: the
service checks the wallet is theirs), the system and staff refund.

**Payout** (:class:`PayoutStatus`): ``requested → processing → paid``, or ``failed`` (the money
returns to the wallet) from requested or processing. Sellers request; only the gateway (system)
and staff move a payout on.
"""

from django.db import models
from django.utils.translation import pgettext_lazy

from core.access import BUYER, SELLER, STAFF, SYSTEM
from core.states import StateMachine, move


class EscrowStatus(models.TextChoices):
    HELD = "held", pgettext_lazy("escrow status", "Held")
    RELEASED = "released", pgettext_lazy("escrow status", "Released")
    REFUNDED = "refunded", pgettext_lazy("escrow status", "Refunded")


ESCROW_MACHINE = StateMachine("escrow", EscrowStatus, [
    move(EscrowStatus.HELD, EscrowStatus.RELEASED, SYSTEM, STAFF, name="release"),
    move(EscrowStatus.HELD, EscrowStatus.REFUNDED, BUYER, SYSTEM, STAFF, name="refund"),
])


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("payout status", "Requested")
    PROCESSING = "processing", pgettext_lazy("payout status", "Processing")
    PAID = "paid", pgettext_lazy("payout status", "Paid")
    FAILED = "failed", pgettext_lazy("payout status", "Failed")


PAYOUT_MACHINE = StateMachine("payout", PayoutStatus, [
    move(PayoutStatus.REQUESTED, PayoutStatus.PROCESSING, SYSTEM, STAFF, name="process"),
    move(PayoutStatus.PROCESSING, PayoutStatus.PAID, SYSTEM, STAFF, name="complete"),
    move([PayoutStatus.REQUESTED, PayoutStatus.PROCESSING], PayoutStatus.FAILED, SYSTEM, STAFF, name="fail"),
])

# Who may ask for a payout (creating it is not a move).
PAYOUT_REQUEST_ROLES = frozenset({SELLER, STAFF})
