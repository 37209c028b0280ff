"""Wallet movements: money in from a provider, wallet to wallet (one or a batch), charges to the
platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
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
    _int_array,
    _post,
    _text_array,
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
    legs = [acct for t in transfers for acct in (wallet(t.source, t.amount.currency), wallet(t.destination, t.amount.currency))]
    params = [
        _text_array([t.kind for t in transfers]), _text_array([t.reference for t in transfers]), _text_array(keys),
        _text_array([_fingerprint(source=t.source.label, destination=t.destination.label, amount=t.amount.minor,
                                  currency=t.amount.currency, kind=t.kind, reference=t.reference) for t in transfers]),
        actor_id, actor_label, timezone.now(),
        _int_array([i for i in range(1, len(transfers) + 1) for _leg in (0, 1)]),
        _text_array([a[0] for a in legs]), _int_array([a[1] for a in legs]), _text_array([a[2] for a in legs]),
        _text_array([a[3] for a in legs]), _int_array([m for t in transfers for m in (-t.amount.minor, t.amount.minor)]),
    ]
    booked, outcome, refused = _book_batch_pg(params)
    if outcome == "missing":
        # A first credit to a wallet: create the accounts credits need, and book again in one
        # transaction with them (a batch refused anyway leaves no empty account behind).
        credited = set(legs[1::2])
        wanted = set(legs)
        with transaction.atomic():
            ids = _accounts(wanted, creatable=credited)
            if len(ids) < len(wanted):
                raise _insufficient(next(acct for acct in legs if acct not in ids))
            booked, outcome, refused = _book_batch_pg(params)
            if outcome != "booked":
                raise _insufficient(legs[(refused or 1) - 1])
    elif outcome == "short":
        raise _insufficient(legs[refused - 1])
    results = {key: TxnInfo(id=txn_id, kind=t.kind, reference=t.reference,
                            entries=[(t.source.label, -t.amount), (t.destination.label, t.amount)])
               for t, key, txn_id in zip(transfers, keys, booked, strict=True) if txn_id is not None}
    return [results.get(key) or _existing(key) for key in keys]


# Many transfers in one call of a PL/pgSQL function (migration payments 0007): the transaction rows
# (a key booked before is skipped), the accounts locked in ascending id order, each account's net
# change checked, balances and entries; or nothing written, with the reason.
_BOOK_BATCH_SQL = ("SELECT booked, outcome, refused_leg FROM payments_book_batch(%s::text[], %s::text[], %s::text[], "
                   "%s::text[], %s, %s, %s, %s::int[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::bigint[])")


def _book_batch_pg(params: list) -> tuple[list, str, int | None]:
    """Run the batch function once: (transaction id or None per transfer, outcome, refused leg)."""
    cursor = sql.cursor()
    cursor.execute(_BOOK_BATCH_SQL, params)
    return cursor.fetchone()
