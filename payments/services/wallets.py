"""Wallet movements: money in from a provider, wallet to wallet (one or a batch), charges to the
platform.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode
from core.money import Money

from ..interface import Owner, TxnInfo
from ..models import AccountKind, TxnKind
from .posting import (
    _accounts,
    _actor,
    _check_kind,
    _check_owner,
    _existing,
    _fingerprint,
    _insufficient,
    _post,
    check_amount,
    platform,
    wallet,
)

# Where ``charge`` books each kind of platform charge.
CHARGE_ACCOUNTS = {
    TxnKind.DUTY: AccountKind.CUSTOMS_DUTY,
    TxnKind.FEE: AccountKind.FEES,
    TxnKind.SHIPPING: AccountKind.SHIPPING,
}


def wallet_top_up(*, owner: Owner, amount: Money, provider: str, provider_event_id: str, actor) -> TxnInfo:
    """Money arrived from a payment provider. Idempotent per (provider, event id)."""
    _check_owner(owner)
    check_amount(amount)
    return _post(
        kind=TxnKind.TOP_UP, reference=f"{provider}:{provider_event_id}",
        key=f"top_up:{provider}:{provider_event_id}",
        fingerprint=_fingerprint(owner=owner.label, amount=amount.minor, currency=amount.currency),
        legs=[(platform(AccountKind.PROVIDER_CLEARING, amount.currency), -amount.minor),
              (wallet(owner, amount.currency), amount.minor)],
        actor=actor,
    )


def wallet_transfer(*, source: Owner, destination: Owner, amount: Money, kind: str = TxnKind.TRANSFER, reference: str,
                    idempotency_key: str, actor) -> TxnInfo:
    """Wallet to wallet in one currency. Idempotent per ``idempotency_key``."""
    _check_owner(source, "source")
    _check_owner(destination, "destination")
    check_amount(amount)
    if source == destination:
        raise DomainError(ErrorCode.VALIDATION, _("Source and destination are the same wallet."),
                          {"destination": [_("Must differ from the source.")]})
    kind = _check_kind(kind)
    return _post(
        kind=kind, reference=reference, key=f"transfer:{idempotency_key}",
        fingerprint=_fingerprint(source=source.label, destination=destination.label, amount=amount.minor,
                                 currency=amount.currency, kind=kind, reference=reference),
        legs=[(wallet(source, amount.currency), -amount.minor), (wallet(destination, amount.currency), amount.minor)],
        actor=actor,
    )


def wallet_charge(*, payer: Owner, amount: Money, kind: str, reference: str, idempotency_key: str, actor) -> TxnInfo:
    """From a wallet to the platform account of ``kind`` (duty -> customs_duty, fee, shipping)."""
    _check_owner(payer, "payer")
    check_amount(amount)
    account = CHARGE_ACCOUNTS.get(kind)
    if account is None:
        raise DomainError(ErrorCode.VALIDATION, _("Unknown charge kind %(kind)s.") % {"kind": repr(kind)},
                          {"kind": [_("One of %(kinds)s.") % {"kinds": ", ".join(CHARGE_ACCOUNTS)}]})
    return _post(
        kind=kind, reference=reference, key=f"charge:{idempotency_key}",
        fingerprint=_fingerprint(payer=payer.label, amount=amount.minor, currency=amount.currency, kind=kind,
                                 reference=reference),
        legs=[(wallet(payer, amount.currency), -amount.minor), (platform(account, amount.currency), amount.minor)],
        actor=actor,
    )


@dataclass(frozen=True)
class TransferRequest:
    source: Owner
    destination: Owner
    amount: Money
    reference: str
    idempotency_key: str
    kind: str = TxnKind.TRANSFER


def wallet_transfer_batch(*, transfers: list[TransferRequest], actor) -> list[TxnInfo]:
    """Many wallet-to-wallet transfers in one database transaction, all or nothing.

    For volume (settlement runs, imports): one statement per step whatever the batch size. The
    accounts are locked in ascending id order first, so concurrent batches never deadlock; the
    balance check applies to each account's net change. A transfer whose key was already booked
    is skipped (``booked=False``). Raises insufficient_funds (nothing booked) if any wallet would
    end below zero.
    """
    if not transfers:
        return []
    for t in transfers:
        _check_owner(t.source, "source")
        _check_owner(t.destination, "destination")
        check_amount(t.amount)
        _check_kind(t.kind)
        if t.source == t.destination:
            raise DomainError(ErrorCode.VALIDATION, _("Source and destination are the same wallet."),
                              {"destination": [_("Must differ from the source.")]})
    keys = [f"transfer:{t.idempotency_key}" for t in transfers]
    if len(set(keys)) != len(keys):
        raise DomainError(ErrorCode.VALIDATION, _("Idempotency keys repeat within the batch."),
                          {"transfers": [_("Duplicate key.")]})
    if connection.vendor != "postgresql":
        # The zero-setup demo (SQLite) books them one by one, still in one transaction.
        with transaction.atomic():
            return [wallet_transfer(source=t.source, destination=t.destination, amount=t.amount, kind=t.kind,
                                    reference=t.reference, idempotency_key=t.idempotency_key, actor=actor) for t in transfers]
    actor_id, actor_label = _actor(actor)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        params: list = []
        for t, key in zip(transfers, keys, strict=True):
            fp = _fingerprint(source=t.source.label, destination=t.destination.label, amount=t.amount.minor,
                              currency=t.amount.currency, kind=t.kind, reference=t.reference)
            params += [t.kind, t.reference, key, fp, actor_id, actor_label, now, "{}"]
        cursor.execute(
            "INSERT INTO payments_transaction (kind, reference, idempotency_key, fingerprint, actor_id, actor_label, created_at, memo) "
            "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(transfers))
            + " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key",
            params,
        )
        new = {key: txn_id for txn_id, key in cursor.fetchall()}
        fresh = [(t, new[key]) for t, key in zip(transfers, keys, strict=True) if key in new]
        results = dict.fromkeys(keys)
        if fresh:
            legs = [(txn_id, acct, minor) for t, txn_id in fresh
                    for acct, minor in ((wallet(t.source, t.amount.currency), -t.amount.minor),
                                        (wallet(t.destination, t.amount.currency), t.amount.minor))]
            credited = {acct for _txn, acct, minor in legs if minor > 0}
            wanted = {acct for _txn, acct, _minor in legs}
            ids = _accounts(wanted, creatable=credited)
            if len(ids) < len(wanted):
                raise _insufficient(next(acct for acct in wanted if acct not in ids))
            deltas: dict[int, int] = defaultdict(int)
            for _txn, acct, minor in legs:
                deltas[ids[acct]] += minor
            order = sorted(deltas)
            cursor.execute("SELECT id FROM payments_account WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [order])
            cursor.execute(
                "UPDATE payments_account AS a SET balance_minor = a.balance_minor + v.delta "  # noqa: S608 - placeholders only
                "FROM (VALUES " + ", ".join(["(%s::bigint, %s::bigint)"] * len(order)) + ") AS v(id, delta) "
                "WHERE a.id = v.id AND (a.allow_negative OR a.balance_minor + v.delta >= 0) "
                "RETURNING a.id, a.balance_minor",
                [x for aid in order for x in (aid, deltas[aid])],
            )
            after = dict(cursor.fetchall())
            if len(after) < len(order):
                by_id = {v: k for k, v in ids.items()}
                raise _insufficient(by_id[next(aid for aid in order if aid not in after)])
            running = {aid: after[aid] - deltas[aid] for aid in order}
            rows = []
            for txn_id, acct, minor in legs:
                aid = ids[acct]
                running[aid] += minor
                rows += [txn_id, aid, acct[3], minor, running[aid], now]
            cursor.execute(
                "INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at) VALUES "  # noqa: S608 - placeholders only
                + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(legs)),
                rows,
            )
            for t, txn_id in fresh:
                key = f"transfer:{t.idempotency_key}"
                results[key] = TxnInfo(id=txn_id, kind=t.kind, reference=t.reference, entries=[
                    (t.source.label, -t.amount), (t.destination.label, t.amount)])
    return [results[key] or _existing(key) for key in keys]
