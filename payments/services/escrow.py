"""Escrow: the buyer's money held for an order until it is released to the seller, refunded, or
pays the parcel's duties.

The hold's status follows :data:`~payments.states.ESCROW_MACHINE`: ``check`` before the money
moves (a refused move books nothing), ``transition`` after, in the same database transaction.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode
from core.money import Money
from core.states import check, record_creation, transition

from ..access import may_act_for
from ..interface import Owner, TxnInfo
from ..models import AccountKind, Entry, EscrowHold, TxnKind
from ..states import EscrowStatus
from .posting import AccountKey, _check_owner, _existing, _fingerprint, _post, _shard, check_amount, platform, wallet


def escrow_hold(*, payer: Owner, amount: Money, reference: str, actor) -> TxnInfo:
    """Move the payer's money into escrow for ``reference``. A second call with the same reference
    books nothing and returns the first hold (a different payer or amount is refused)."""
    _check_owner(payer, "payer")
    check_amount(amount)
    if not reference:
        raise DomainError(ErrorCode.VALIDATION, _("A reference is required."), {"reference": [_("Required.")]})
    with transaction.atomic():
        info = _post(
            kind=TxnKind.ESCROW_HOLD, reference=reference, key=f"escrow_hold:{reference}",
            fingerprint=_fingerprint(payer=payer.label, amount=amount.minor, currency=amount.currency),
            legs=[(wallet(payer, amount.currency), -amount.minor),
                  (platform(AccountKind.ESCROW, amount.currency, _shard(reference)), amount.minor)],
            actor=actor,
        )
        if info.booked:
            now = timezone.now()
            hold = EscrowHold.objects.create(
                reference=reference, payer_kind=payer.kind, payer_id=payer.id, currency=amount.currency,
                amount_minor=amount.minor, hold_txn_id=info.id, created_at=now, updated_at=now,
            )
            record_creation(hold, actor=actor, at=now, payload={"amount": amount.to_api(), "txn": info.id})
    return info


def _locked_hold(reference: str) -> EscrowHold:
    hold = EscrowHold.objects.select_for_update().filter(reference=reference).first()
    if hold is None:
        raise DomainError(ErrorCode.NOT_FOUND, _("Nothing is held in escrow for %(ref)s.") % {"ref": reference},
                          {"reference": [_("Unknown.")]})
    return hold


def _escrow_account(hold: EscrowHold) -> AccountKey:
    """The escrow shard the hold was booked into (read from its transaction, so that holds booked
    before sharding, or under another shard count, are released from where they are)."""
    owner_id = (Entry.objects.filter(txn_id=hold.hold_txn_id, account__kind=AccountKind.ESCROW)
                .values_list("account__owner_id", flat=True).first())
    return platform(AccountKind.ESCROW, hold.currency, owner_id or 0)


def escrow_release(*, reference: str, payee: Owner, commission_rate: Decimal, actor) -> TxnInfo:
    """Pay what is still held for ``reference`` to ``payee``, then book the platform's commission
    from the payee's wallet (two transactions, so the seller's statement shows both). Idempotent."""
    _check_owner(payee, "payee")
    rate = _check_rate(commission_rate)
    key = f"escrow_release:{reference}"
    with transaction.atomic():
        hold = _locked_hold(reference)
        if hold.status == EscrowStatus.RELEASED:
            if (hold.payee_kind, hold.payee_id) != (payee.kind, payee.id):
                raise DomainError(ErrorCode.CONFLICT,
                                  _("%(ref)s was already released to another payee.") % {"ref": reference})
            return _existing(key)
        if hold.open_minor == 0:
            raise DomainError(ErrorCode.CONFLICT, _("%(ref)s has nothing left in escrow to release.") % {"ref": reference})
        check(hold, EscrowStatus.RELEASED, actor=actor)
        gross = Money(hold.open_minor, hold.currency)
        commission = gross.times(rate)
        info = _post(
            kind=TxnKind.ESCROW_RELEASE, reference=reference, key=key,
            fingerprint=_fingerprint(payee=payee.label, amount=gross.minor),
            legs=[(_escrow_account(hold), -gross.minor), (wallet(payee, hold.currency), gross.minor)],
            actor=actor,
        )
        if commission:
            _post(
                kind=TxnKind.COMMISSION, reference=reference, key=f"commission:{reference}",
                fingerprint=_fingerprint(payee=payee.label, amount=commission.minor, rate=str(rate)),
                legs=[(wallet(payee, hold.currency), -commission.minor),
                      (platform(AccountKind.COMMISSION, hold.currency, _shard(reference)), commission.minor)],
                actor=actor, memo={"rate": str(rate), "base": gross.minor},
            )
        transition(hold, EscrowStatus.RELEASED, actor=actor,
                   payload={"payee": payee.label, "released": gross.to_api(), "commission": commission.to_api(),
                            "txn": info.id},
                   extra_updates={"released_minor": gross.minor, "commission_minor": commission.minor,
                                  "payee_kind": payee.kind, "payee_id": payee.id, "updated_at": timezone.now()})
    return info


def escrow_pay_duty(*, reference: str, assessed: Money, prepaid: Money, actor) -> TxnInfo | None:
    """Customs released the parcel of ``reference``: pay its duties out of escrow (DDP).

    The buyer prepaid ``prepaid`` with the order. The customs duty account receives ``assessed``;
    when customs assessed more, the platform's landed-cost guarantee pays the difference (the buyer
    pays nothing more); when it assessed less, the difference goes back to the buyer. One balanced
    transaction; idempotent per reference. None when nothing was due and nothing prepaid.
    """
    for name, value in (("assessed", assessed), ("prepaid", prepaid)):
        if not isinstance(value, Money) or value.minor < 0:
            raise DomainError(ErrorCode.INVALID_AMOUNT, _("Give an amount of zero or more."), {name: [_("Zero or more.")]})
    key = f"escrow_duty:{reference}"
    with transaction.atomic():
        hold = _locked_hold(reference)
        if (done := _existing(key)) is not None:
            return done
        if assessed.currency != hold.currency or prepaid.currency != hold.currency:
            raise DomainError(ErrorCode.CURRENCY_MISMATCH, _("%(ref)s is held in %(cur)s.") % {"ref": reference, "cur": hold.currency},
                              {"assessed": [_("Must be in %(cur)s.") % {"cur": hold.currency}]})
        if hold.status != EscrowStatus.HELD:
            raise DomainError(ErrorCode.CONFLICT, _("%(ref)s is no longer held in escrow.") % {"ref": reference})
        if prepaid.minor > hold.open_minor:
            msg = _("Only %(money)s is still held.") % {"money": Money(hold.open_minor, hold.currency)}
            raise DomainError(ErrorCode.INVALID_AMOUNT, msg, {"prepaid": [msg]})
        if assessed.minor == 0 and prepaid.minor == 0:
            return None
        currency = hold.currency
        shard = _shard(reference)
        legs = [(_escrow_account(hold), -prepaid.minor)] if prepaid.minor else []
        if assessed.minor:
            legs.append((platform(AccountKind.CUSTOMS_DUTY, currency, shard), assessed.minor))
        over = assessed.minor - prepaid.minor
        if over > 0:
            legs.append((platform(AccountKind.LANDED_COST_GUARANTEE, currency, shard), -over))
        elif over < 0:
            legs.append((wallet(Owner(hold.payer_kind, hold.payer_id), currency), -over))
        info = _post(kind=TxnKind.DUTY, reference=reference, key=key,
                     fingerprint=_fingerprint(assessed=assessed.minor, prepaid=prepaid.minor), legs=legs, actor=actor,
                     memo={"assessed": assessed.minor, "prepaid": prepaid.minor, "guarantee": max(over, 0)})
        # Amounts, not the status: the hold stays held until it is released or refunded.
        hold.settled_minor += min(assessed.minor, prepaid.minor)
        hold.refunded_minor += max(-over, 0)
        hold.updated_at = timezone.now()
        hold.save(update_fields=["settled_minor", "refunded_minor", "updated_at"])
    return info


def _check_rate(rate) -> Decimal:
    try:
        rate = Decimal(str(rate)) if not isinstance(rate, float) else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not Decimal(0) <= rate < Decimal(1):
        raise DomainError(ErrorCode.VALIDATION, _("The commission rate must be a decimal from 0 up to 1."),
                          {"commission_rate": [_("From 0 up to (not including) 1.")]})
    return rate


def escrow_refund(*, reference: str, actor, amount: Money | None = None, idempotency_key: str | None = None) -> TxnInfo:
    """Return held money to the payer: all that is still held (``amount=None``) or part of it.

    Idempotent: the same call (same reference and amount, or the same ``idempotency_key``) books
    nothing more. Refused once the money was released to the payee. The refund that empties the
    hold moves it to ``refunded``; a partial one changes only its amounts. The payer, the system and
    staff may refund.
    """
    key = f"refund:{reference}:{idempotency_key or (amount.minor if isinstance(amount, Money) else 'all')}"
    with transaction.atomic():
        hold = _locked_hold(reference)
        if (done := _existing(key)) is not None:
            return done
        if hold.status == EscrowStatus.RELEASED:
            raise DomainError(ErrorCode.CONFLICT, _("%(ref)s was already paid out to the seller; it cannot be refunded "
                                                   "from escrow.") % {"ref": reference})
        open_minor = hold.open_minor
        if amount is None:
            minor = open_minor
        else:
            check_amount(amount)
            if amount.currency != hold.currency:
                raise DomainError(ErrorCode.CURRENCY_MISMATCH,
                                  _("%(ref)s is held in %(cur)s.") % {"ref": reference, "cur": hold.currency},
                                  {"amount": [_("Must be in %(cur)s.") % {"cur": hold.currency}]})
            if amount.minor > open_minor:
                msg = _("Only %(money)s is still held.") % {"money": Money(open_minor, hold.currency)}
                raise DomainError(ErrorCode.INVALID_AMOUNT, msg, {"amount": [msg]})
            minor = amount.minor
        if minor == 0:
            raise DomainError(ErrorCode.CONFLICT, _("%(ref)s has nothing left to refund.") % {"ref": reference})
        check(hold, EscrowStatus.REFUNDED, actor=actor)  # may this actor refund at all?
        payer = Owner(hold.payer_kind, hold.payer_id)
        if not may_act_for(actor, payer):
            raise DomainError(ErrorCode.PERMISSION_DENIED, _("Only the payer may have this money refunded."))
        info = _post(
            kind=TxnKind.REFUND, reference=reference, key=key, fingerprint=_fingerprint(amount=minor),
            legs=[(_escrow_account(hold), -minor), (wallet(payer, hold.currency), minor)],
            actor=actor,
        )
        hold.refunded_minor += minor
        hold.updated_at = timezone.now()
        if hold.open_minor == 0:
            transition(hold, EscrowStatus.REFUNDED, actor=actor,
                       payload={"refunded": Money(minor, hold.currency).to_api(), "txn": info.id},
                       extra_updates={"refunded_minor": hold.refunded_minor, "updated_at": hold.updated_at})
        else:
            hold.save(update_fields=["refunded_minor", "updated_at"])
    return info
