"""Payouts: a seller's available money sent to its bank through the payout gateway.

The status follows the payout machine, moved only by ``core.states.transition``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import SYSTEM_ACTOR, roles_of
from core.errors import DomainError, ErrorCode
from core.money import Money
from core.states import record_creation, transition
from core.tasks import enqueue

from ..access import may_act_for
from ..gateways import payouts as payout_gateways
from ..interface import Owner
from ..models import AccountKind, Payout, TxnKind
from .posting import _check_owner, _fingerprint, _post, check_amount, platform, wallet


def payout_request(*, owner: Owner, amount: Money, actor) -> Payout:
    """A seller asks for its available balance to be paid out. The money moves at once to
    ``payouts_pending``; Celery then takes the payout through the gateway."""
    _check_owner(owner)
    check_amount(amount)
    if not (roles_of(actor) & Payout.REQUEST_ROLES or actor is SYSTEM_ACTOR) or not may_act_for(actor, owner):
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("Only a seller may request a payout of its own wallet."))
    gateway = payout_gateways.get()
    now = timezone.now()
    with transaction.atomic():
        # What the seller owes the platform (refunds its wallet could not cover) is settled first.
        from .returns import debts_settle

        debts_settle(owner=owner, currency=amount.currency, actor=SYSTEM_ACTOR)
        payout = Payout.objects.create(
            owner_kind=owner.kind, owner_id=owner.id, currency=amount.currency, amount_minor=amount.minor,
            requested_by=None if actor is SYSTEM_ACTOR else actor, gateway=gateway.name, created_at=now, updated_at=now,
        )
        _post(
            kind=TxnKind.PAYOUT, reference=payout.reference, key=f"payout:{payout.pk}:requested",
            fingerprint=_fingerprint(amount=amount.minor),
            legs=[(wallet(owner, amount.currency), -amount.minor),
                  (platform(AccountKind.PAYOUTS_PENDING, amount.currency), amount.minor)],
            actor=actor,
        )
        record_creation(payout, actor=actor, at=now, payload={"amount": amount.to_api()})
        from .. import tasks

        enqueue(tasks.process_payout, payout.pk)
    return payout


def payout_process(*, payout_id: int, actor=SYSTEM_ACTOR) -> Payout:
    """Move a payout through the gateway: requested -> processing -> paid (or failed). Safe to run
    twice: each step checks the status first and the gateway is idempotent per payout."""
    payout = Payout.objects.get(pk=payout_id)
    if payout.status == Payout.Status.REQUESTED:
        transition(payout, Payout.Status.PROCESSING, actor=actor, extra_updates={"updated_at": timezone.now()})
    if payout.status != Payout.Status.PROCESSING:
        return payout
    result = payout_gateways.GATEWAYS[payout.gateway]().send(
        payout_id=payout.pk, owner_label=f"{payout.owner_kind}:{payout.owner_id}",
        amount_minor=payout.amount_minor, currency=payout.currency,
    )
    if result.ok:
        return payout_complete(payout=payout, gateway_reference=result.reference, actor=actor)
    return payout_fail(payout=payout, reason=result.reason, actor=actor)


def payout_complete(*, payout: Payout, gateway_reference: str = "", actor) -> Payout:
    """The bank paid: the money leaves the platform (payouts_pending -> provider_clearing)."""
    with transaction.atomic():
        transition(payout, Payout.Status.PAID, actor=actor,
                   extra_updates={"gateway_reference": gateway_reference, "updated_at": timezone.now()})
        _post(
            kind=TxnKind.PAYOUT, reference=payout.reference, key=f"payout:{payout.pk}:paid",
            fingerprint=_fingerprint(amount=payout.amount_minor),
            legs=[(platform(AccountKind.PAYOUTS_PENDING, payout.currency), -payout.amount_minor),
                  (platform(AccountKind.PROVIDER_CLEARING, payout.currency), payout.amount_minor)],
            actor=actor,
        )
    return payout


def payout_fail(*, payout: Payout, reason: str, actor) -> Payout:
    """The bank refused: the money goes back to the seller's wallet."""
    with transaction.atomic():
        transition(payout, Payout.Status.FAILED, actor=actor, reason=reason,
                   extra_updates={"failure_reason": reason, "updated_at": timezone.now()})
        _post(
            kind=TxnKind.PAYOUT_RETURN, reference=payout.reference, key=f"payout:{payout.pk}:failed",
            fingerprint=_fingerprint(amount=payout.amount_minor),
            legs=[(platform(AccountKind.PAYOUTS_PENDING, payout.currency), -payout.amount_minor),
                  (wallet(Owner(payout.owner_kind, payout.owner_id), payout.currency), payout.amount_minor)],
            actor=actor,
        )
    return payout
