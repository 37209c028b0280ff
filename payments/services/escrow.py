"""Escrow: the buyer's money held for an order until it is released to the seller, refunded, or
pays the parcel's duties.

The hold's status follows :data:`~payments.states.ESCROW_MACHINE`: ``check`` before the money
moves (a refused move books nothing), ``transition`` after, in the same database transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from contextlib import nullcontext
from decimal import Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from core.errors import DomainError, ErrorCode
from core.money import Money
from core.states import check, create, transition, transition_batch

from ..access import may_act_for
from ..interface import DutyDue, EscrowReleased, Owner, TxnInfo
from ..models import AccountKind, Entry, EscrowHold, Transaction, TxnKind
from ..states import EscrowStatus
from .posting import (
    AccountKey,
    _actor,
    _check_owner,
    _existing,
    _fingerprint,
    _label,
    _post,
    _shard,
    check_amount,
    platform,
    wallet,
)


def escrow_hold_request(*, payer: Owner, amount: Money, reference: str, actor, at=None) -> dict:
    """An escrow hold as the argument of ``payments_escrow_hold`` (migration payments 0008), checked:
    for a caller that holds in escrow inside a database function of its own (``orders_pay``)."""
    _check_hold(payer, amount, reference)
    legs = _hold_legs(payer, amount, reference)
    actor_id, actor_label = _actor(actor)
    return {
        "kind": TxnKind.ESCROW_HOLD.value, "reference": reference, "key": f"escrow_hold:{reference}",
        "fingerprint": _hold_fingerprint(payer, amount), "actor_id": actor_id, "actor_label": actor_label,
        "at": (at or timezone.now()).isoformat(),
        "owner_kind": [a[0] for a, _m in legs], "owner_id": [a[1] for a, _m in legs],
        "account_kind": [a[2] for a, _m in legs], "currency": [a[3] for a, _m in legs], "minor": [m for _a, m in legs],
        "payer_kind": payer.kind, "payer_id": payer.id, "hold_currency": amount.currency, "amount": amount.minor,
        "status": EscrowStatus.HELD.value, "machine": EscrowHold.machine.name,
        "content_type": ContentType.objects.get_for_model(EscrowHold).pk, "payload": {"amount": amount.to_api()},
    }


def _hold_booked(request: dict, txn_id: int) -> TxnInfo:
    """What :func:`escrow_hold` returns, for a ``request`` that ``payments_escrow_hold`` booked as ``txn_id``."""
    return TxnInfo(id=txn_id, kind=request["kind"], reference=request["reference"],
                   entries=[(_label(acct), Money(minor, acct[3]))
                            for acct, minor in zip(zip(request["owner_kind"], request["owner_id"], request["account_kind"],
                                                       request["currency"], strict=True), request["minor"], strict=True)])


def _check_hold(payer: Owner, amount: Money, reference: str) -> None:
    _check_owner(payer, "payer")
    check_amount(amount)
    if not reference:
        raise DomainError(ErrorCode.VALIDATION, _("A reference is required."), {"reference": [_("Required.")]})


def _hold_legs(payer: Owner, amount: Money, reference: str) -> list:
    return [(wallet(payer, amount.currency), -amount.minor),
            (platform(AccountKind.ESCROW, amount.currency, _shard(reference)), amount.minor)]


def _hold_fingerprint(payer: Owner, amount: Money) -> str:
    return _fingerprint(payer=payer.label, amount=amount.minor, currency=amount.currency)


_HOLD_SQL = "SELECT booked_id, outcome FROM payments_escrow_hold(%s::jsonb)"


def escrow_hold(*, payer: Owner, amount: Money, reference: str, actor) -> TxnInfo:
    """Move the payer's money into escrow for ``reference``. A second call with the same reference
    books nothing and returns the first hold (a different payer or amount is refused).

    On PostgreSQL the usual hold is one statement (``payments_escrow_hold``); when that refuses,
    having written nothing, the steps below decide and answer."""
    if connection.vendor == "postgresql":
        request = escrow_hold_request(payer=payer, amount=amount, reference=reference, actor=actor)
        booked_id, outcome = sql.fetch(_HOLD_SQL, [sql.json_text(request)])[0]
        if outcome == "booked":
            return _hold_booked(request, booked_id)
    else:
        _check_hold(payer, amount, reference)
    # Inside the caller's transaction no savepoint of its own (two round trips fewer on the
    # checkout): a refused booking writes nothing, and a database error fails the caller's
    # transaction either way.
    with transaction.atomic() if not connection.in_atomic_block else nullcontext():
        info = _post(
            kind=TxnKind.ESCROW_HOLD, reference=reference, key=f"escrow_hold:{reference}",
            fingerprint=_hold_fingerprint(payer, amount), legs=_hold_legs(payer, amount, reference), actor=actor,
        )
        if info.booked:
            now = timezone.now()
            hold = EscrowHold(
                reference=reference, payer_kind=payer.kind, payer_id=payer.id, currency=amount.currency,
                amount_minor=amount.minor, hold_txn_id=info.id, created_at=now, updated_at=now,
            )
            create(hold, actor=actor, at=now, payload={"amount": amount.to_api(), "txn": info.id})
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


# --- in batches: the parcel pipeline's volume ---------------------------------------------------------


def _locked_holds(references) -> list[EscrowHold]:
    """The holds of ``references``, locked in id order, each with ``shard``: the escrow shard its
    hold transaction booked into. One statement. Uses the unique index on reference."""
    shard = Entry.objects.filter(txn_id=OuterRef("hold_txn_id"), account__kind=AccountKind.ESCROW).values("account__owner_id")[:1]
    return list(EscrowHold.objects.select_for_update(of=("self",)).filter(reference__in=sorted(set(references)))
                .annotate(shard=Subquery(shard)).order_by("pk"))


def _batch_key(prefix: str, references) -> str:
    return f"{prefix}:{hashlib.sha256(chr(10).join(sorted(references)).encode()).hexdigest()[:48]}"


def escrow_release_batch(*, releases: list[tuple[str, Owner]], commission_rate: Decimal, actor) -> dict[str, EscrowReleased]:
    """Release many holds at once (delivery of a batch of parcels): for each payee and currency one
    release transaction (the escrow shards the holds sit in → the payee's wallet) and one
    commission transaction (the payee's wallet → the commission shards of the references, so that
    a later refund reverses each order's commission where it was booked). The holds move to
    ``released`` with their amounts, an event each. Statements: one to lock the holds, two
    bookings per payee and currency, three for the holds' moves, whatever the batch size.

    Returns the references released, now or before (``booked=False``) to the same payee; a
    reference missing from the result was refused (no hold, refunded, released to another payee,
    nothing left) and nothing was booked for it. A batch delivered twice books nothing more.
    """
    rate = _check_rate(commission_rate)
    payee_of: dict[str, Owner] = {}
    for reference, payee in releases:
        payee_of[reference] = _check_owner(payee, "payee")
    if not payee_of:
        return {}
    if not EscrowHold.machine.allows(EscrowStatus.HELD, EscrowStatus.RELEASED, actor):
        raise DomainError(ErrorCode.TRANSITION_NOT_PERMITTED, _("You may not move this %(machine)s to %(dst)s.")
                          % {"machine": EscrowHold.machine.name, "dst": EscrowStatus.RELEASED})
    results: dict[str, EscrowReleased] = {}
    with transaction.atomic(savepoint=False):  # the caller's transaction, without a savepoint
        groups: dict[tuple[Owner, str], list[tuple[EscrowHold, int, int]]] = defaultdict(list)
        for hold in _locked_holds(payee_of):
            payee = payee_of[hold.reference]
            if hold.status == EscrowStatus.RELEASED and (hold.payee_kind, hold.payee_id) == (payee.kind, payee.id):
                results[hold.reference] = EscrowReleased(hold.reference, Money(hold.released_minor, hold.currency),
                                                         Money(hold.commission_minor, hold.currency), None, booked=False)
            elif hold.status == EscrowStatus.HELD and hold.open_minor > 0:
                gross = hold.open_minor
                groups[(payee, hold.currency)].append((hold, gross, Money(gross, hold.currency).times(rate).minor))
        updates: dict[int, dict] = {}
        events: dict[int, dict] = {}
        now = timezone.now()
        for (payee, currency), items in sorted(groups.items(), key=lambda kv: (kv[0][0].label, kv[0][1])):
            references = [hold.reference for hold, _gross, _commission in items]
            escrow: dict[int, int] = defaultdict(int)
            commissions: dict[int, int] = defaultdict(int)
            for hold, gross, commission in items:
                escrow[hold.shard or 0] -= gross
                commissions[_shard(hold.reference)] += commission
            total = -sum(escrow.values())
            fee = sum(commissions.values())
            memo = {"references": len(references), "first": references[0], "last": references[-1]}
            info = _post(
                kind=TxnKind.ESCROW_RELEASE, reference=f"batch:{references[0]}", key=_batch_key("escrow_release", references),
                fingerprint=_fingerprint(payee=payee.label, amount=total, references=references),
                legs=[*((platform(AccountKind.ESCROW, currency, s), minor) for s, minor in sorted(escrow.items())),
                      (wallet(payee, currency), total)],
                actor=actor, memo=memo,
            )
            if fee:
                _post(
                    kind=TxnKind.COMMISSION, reference=f"batch:{references[0]}", key=_batch_key("commission", references),
                    fingerprint=_fingerprint(payee=payee.label, amount=fee, rate=str(rate), references=references),
                    legs=[(wallet(payee, currency), -fee),
                          *((platform(AccountKind.COMMISSION, currency, s), minor) for s, minor in sorted(commissions.items()))],
                    actor=actor, memo={**memo, "rate": str(rate), "base": total},
                )
            for hold, gross, commission in items:
                released, fee_money = Money(gross, currency), Money(commission, currency)
                updates[hold.pk] = {"released_minor": gross, "commission_minor": commission, "payee_kind": payee.kind,
                                    "payee_id": payee.id}
                events[hold.pk] = {"payload": {"payee": payee.label, "released": released.to_api(),
                                               "commission": fee_money.to_api(), "txn": info.id}}
                results[hold.reference] = EscrowReleased(hold.reference, released, fee_money, info.id)
        if updates:
            moved = transition_batch(EscrowHold, list(updates), EscrowStatus.HELD, EscrowStatus.RELEASED, actor=actor,
                                     extra_updates={"updated_at": now}, updates=updates, events=events)
            if len(moved) != len(updates):  # pragma: no cover - the holds are locked above
                raise DomainError(ErrorCode.CONFLICT, "An escrow hold changed meanwhile; try again.")
    return results


def escrow_pay_duty_batch(*, dues: list[DutyDue], actor) -> dict[str, int | None]:
    """Customs released many parcels: pay their duties out of escrow in one balanced transaction
    per currency (as :func:`escrow_pay_duty` does for one): the escrow shards give what each buyer
    prepaid, the customs duty shards of the references receive what was assessed, the landed-cost
    guarantee pays any excess and buyers get back any shortfall. Holds keep their status; their
    amounts change in one statement.

    Returns ``{reference: transaction id}`` (None: nothing due and nothing prepaid); a reference
    missing from the result was refused (no hold, not held, currency or amount wrong). Idempotent:
    a reference booked before (by this batch or by :func:`escrow_pay_duty`) is answered with that
    booking; the caller's own status (the declaration, moved in the same transaction) keeps a
    reference from being sent again in another batch.
    """
    by_reference: dict[str, DutyDue] = {}
    for due in dues:
        for name, value in (("assessed", due.assessed), ("prepaid", due.prepaid)):
            if not isinstance(value, Money) or value.minor < 0:
                raise DomainError(ErrorCode.INVALID_AMOUNT, _("Give an amount of zero or more."), {name: [_("Zero or more.")]})
        by_reference[due.reference] = due
    if not by_reference:
        return {}
    results: dict[str, int | None] = {}
    with transaction.atomic(savepoint=False):  # the caller's transaction, without a savepoint
        holds = _locked_holds(by_reference)
        singles = dict(Transaction.objects.filter(idempotency_key__in=[f"escrow_duty:{r}" for r in by_reference])
                       .values_list("reference", "pk"))
        per_currency: dict[str, list[tuple[EscrowHold, DutyDue]]] = defaultdict(list)
        for hold in holds:
            due = by_reference[hold.reference]
            if hold.reference in singles:
                results[hold.reference] = singles[hold.reference]
            elif (hold.status == EscrowStatus.HELD and due.assessed.currency == hold.currency == due.prepaid.currency
                    and due.prepaid.minor <= hold.open_minor):
                if due.assessed.minor == 0 and due.prepaid.minor == 0:
                    results[hold.reference] = None
                else:
                    per_currency[hold.currency].append((hold, due))
        updates: list[tuple[int, int, int]] = []
        for currency, items in sorted(per_currency.items()):
            references = sorted(hold.reference for hold, _due in items)
            legs: dict[AccountKey, int] = defaultdict(int)
            guarantee = 0
            for hold, due in items:
                shard = _shard(hold.reference)
                legs[platform(AccountKind.ESCROW, currency, hold.shard or 0)] -= due.prepaid.minor
                legs[platform(AccountKind.CUSTOMS_DUTY, currency, shard)] += due.assessed.minor
                over = due.assessed.minor - due.prepaid.minor
                if over > 0:
                    legs[platform(AccountKind.LANDED_COST_GUARANTEE, currency, shard)] -= over
                    guarantee += over
                elif over < 0:
                    legs[wallet(Owner(hold.payer_kind, hold.payer_id), currency)] -= over
                updates.append((hold.pk, min(due.assessed.minor, due.prepaid.minor), max(-over, 0)))
            info = _post(kind=TxnKind.DUTY, reference=f"batch:{references[0]}", key=_batch_key("escrow_duty", references),
                         fingerprint=_fingerprint(references=references, legs=sorted(legs.items())),
                         legs=sorted(legs.items()), actor=actor,
                         memo={"references": len(references), "first": references[0], "last": references[-1],
                               "guarantee": guarantee})
            for hold, _due in items:
                results[hold.reference] = info.id
        if updates:
            values = ", ".join(["(%s::bigint, %s::bigint, %s::bigint)"] * len(updates)) if connection.vendor == "postgresql" \
                else ", ".join(["(%s, %s, %s)"] * len(updates))
            with connection.cursor() as cursor:
                cursor.execute(
                    "WITH v (id, settled, refunded) AS (VALUES " + values + ") "  # noqa: S608 - placeholders only
                    "UPDATE payments_escrowhold SET settled_minor = settled_minor + (SELECT settled FROM v WHERE v.id = payments_escrowhold.id), "
                    "refunded_minor = refunded_minor + (SELECT refunded FROM v WHERE v.id = payments_escrowhold.id), updated_at = %s "
                    "WHERE id IN (SELECT id FROM v)",
                    [x for row in updates for x in row] + [timezone.now()],
                )
    return results
