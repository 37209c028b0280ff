"""Writes of the payments app. Every money movement is one balanced ledger transaction.

How a booking works (``_post``): the transaction row is inserted first with ``ON CONFLICT
(idempotency_key) DO NOTHING``, so a repeated request finds its transaction and books nothing (a
concurrent duplicate waits on the unique index, then finds it too). Balances are then changed by
conditional UPDATEs, one per account in ascending id order: concurrent bookings lock rows in the
same order and so never deadlock, and ``balance + delta >= 0`` in the WHERE clause makes the
database, not Python, refuse to overdraw a wallet. The entries are written last, in one statement;
a trigger over that statement's rows re-checks that they sum to zero per currency.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import STAFF, SYSTEM_ACTOR, company_ids, roles_of
from core.errors import DomainError, ErrorCode
from core.models import Company
from core.money import Money, currencies
from core.states import transition
from core.tasks import enqueue

from .. import selectors
from ..gateways import fx as fx_gateways
from ..gateways import payouts as payout_gateways
from ..gateways import providers
from ..interface import COMPANY, PLATFORM, USER, Conversion, ConversionQuote, Owner, TxnInfo
from ..models import (
    MAY_GO_NEGATIVE,
    AccountKind,
    Entry,
    EscrowHold,
    FxRate,
    Payout,
    ProviderEvent,
    Transaction,
    TxnKind,
)

# (owner_kind, owner_id, account kind, currency)
AccountKey = tuple[str, int, str, str]

# Where ``charge`` books each kind of platform charge.
CHARGE_ACCOUNTS = {
    TxnKind.DUTY: AccountKind.CUSTOMS_DUTY,
    TxnKind.FEE: AccountKind.FEES,
    TxnKind.SHIPPING: AccountKind.SHIPPING,
}


# --- validation ------------------------------------------------------------------


def check_amount(amount, field: str = "amount") -> Money:
    """A positive, not absurd amount in a wallet currency, else a 400 naming ``field``."""
    if not isinstance(amount, Money):
        raise DomainError(ErrorCode.INVALID_AMOUNT, "Amount must be money.", {field: ["Expected an amount and a currency."]})
    check_wallet_currency(amount.currency, field)
    if amount.minor <= 0:
        raise DomainError(ErrorCode.INVALID_AMOUNT, _("The amount must be positive."), {field: [_("Must be positive.")]})
    if amount.minor > settings.PAYMENTS_MAX_AMOUNT_MINOR:
        raise DomainError(ErrorCode.INVALID_AMOUNT, _("The amount is too large."), {field: [_("The amount is too large.")]})
    return amount


def check_wallet_currency(code: str, field: str = "currency") -> str:
    code = (code or "").upper() if isinstance(code, str) else ""
    if code not in settings.PAYMENTS_CURRENCIES:
        msg = _("Wallets are not kept in %(currency)s.") % {"currency": code or "?"}
        raise DomainError(ErrorCode.UNKNOWN_CURRENCY, msg, {field: [msg]})
    return code


def _check_owner(owner, field: str = "owner") -> Owner:
    if not isinstance(owner, Owner) or owner.kind not in (USER, COMPANY):
        raise DomainError(ErrorCode.VALIDATION, "Unknown wallet owner.", {field: ["Expected a user or a company."]})
    return owner


def _owner_exists(owner: Owner) -> bool:
    if owner.kind == USER:
        return get_user_model().objects.filter(pk=owner.id).exists()
    return Company.objects.filter(pk=owner.id).exists()


def may_act_for(actor, owner: Owner) -> bool:
    """Whether ``actor`` may spend from ``owner``'s wallet: its own, its company's, or staff/system."""
    if actor is SYSTEM_ACTOR or STAFF in roles_of(actor):
        return True
    if owner.kind == USER:
        return getattr(actor, "pk", None) == owner.id
    return owner.id in company_ids(actor)


def _fingerprint(**params) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def _actor(actor) -> tuple[int | None, str]:
    if actor is None or actor is SYSTEM_ACTOR:
        return None, "system"
    return actor.pk, actor.get_username()


def wallet(owner: Owner, currency: str) -> AccountKey:
    return (owner.kind, owner.id, AccountKind.WALLET.value, currency)


def platform(kind: AccountKind, currency: str, shard: int = 0) -> AccountKey:
    return (PLATFORM, shard, kind.value, currency)


# Escrow and commission take a row lock on every order payment and delivery: one account per
# currency made every checkout in that currency wait for the one before it to commit (measured in
# bench/checkout). Each reference books into one of these shards of the account instead; the
# platform's escrow balance is the sum over its shards.
PLATFORM_SHARDS = 16


def _shard(reference: str) -> int:
    return zlib.crc32(reference.encode()) % PLATFORM_SHARDS


def _escrow_account(hold: EscrowHold) -> AccountKey:
    """The escrow shard the hold was booked into (read from its transaction, so that holds booked
    before sharding, or under another shard count, are released from where they are)."""
    owner_id = (Entry.objects.filter(txn_id=hold.hold_txn_id, account__kind=AccountKind.ESCROW)
                .values_list("account__owner_id", flat=True).first())
    return platform(AccountKind.ESCROW, hold.currency, owner_id or 0)


def _label(key: AccountKey) -> str:
    return key[2] if key[0] == PLATFORM else f"{key[0]}:{key[1]}"


# --- the posting engine --------------------------------------------------------------


def _accounts(keys: set[AccountKey], *, creatable: set[AccountKey]) -> dict[AccountKey, int]:
    """Account ids for ``keys``, creating the ``creatable`` ones that do not exist yet.

    Uses index account_key. A key that is missing and may not be created (a wallet about to be
    debited) is absent from the result.
    """
    found = _select_accounts(keys)
    missing = [k for k in keys if k not in found and k in creatable]
    if missing:
        for key in missing:
            if key[0] != PLATFORM and not _owner_exists(Owner(key[0], key[1])):
                raise DomainError(ErrorCode.VALIDATION, f"No such wallet owner {key[0]}:{key[1]}.",
                                  {"owner": ["Unknown user or company."]})
        now = timezone.now()
        values = ", ".join(["(%s, %s, %s, %s, 0, %s, %s)"] * len(missing))
        params: list = []
        for key in missing:
            params += [*key, key[2] in MAY_GO_NEGATIVE, now]
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO payments_account (owner_kind, owner_id, kind, currency, balance_minor, allow_negative, created_at) "  # noqa: S608 - only placeholders are joined
                f"VALUES {values} ON CONFLICT (owner_kind, owner_id, kind, currency) DO NOTHING",
                params,
            )
        found.update(_select_accounts(set(missing)))
    return found


def _select_accounts(keys: set[AccountKey]) -> dict[AccountKey, int]:
    keys = list(keys)
    where = " OR ".join(["(owner_kind = %s AND owner_id = %s AND kind = %s AND currency = %s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, owner_kind, owner_id, kind, currency FROM payments_account WHERE {where}",  # noqa: S608 - placeholders only
                       [v for key in keys for v in key])
        return {(r[1], r[2], r[3], r[4]): r[0] for r in cursor.fetchall()}


def _post(*, kind: str, reference: str, key: str, fingerprint: str, legs: list[tuple[AccountKey, int]],
          actor, memo: dict | None = None) -> TxnInfo:
    """Book one transaction of ``legs`` (account, signed minor units), or find it by ``key``."""
    legs = [(acct, minor) for acct, minor in legs if minor]
    per_currency: dict[str, int] = defaultdict(int)
    for acct, minor in legs:
        per_currency[acct[3]] += minor
    if len(legs) < 2 or any(per_currency.values()):
        raise DomainError(ErrorCode.UNBALANCED_TRANSACTION, f"Refusing an unbalanced {kind} transaction.")
    deltas: dict[AccountKey, int] = defaultdict(int)
    for acct, minor in legs:
        deltas[acct] += minor
    actor_id, actor_label = _actor(actor)
    now = timezone.now()
    txn_row = [kind, reference, key, fingerprint, actor_id, actor_label, now, json.dumps(memo or {})]
    if connection.vendor == "postgresql":
        txn_id = _post_pg(txn_row, legs, deltas, now)
    else:
        txn_id = _post_portable(txn_row, legs, deltas, now)
    if txn_id is None:
        return _replay(key, fingerprint)
    return TxnInfo(id=txn_id, kind=kind, reference=reference,
                   entries=[(_label(acct), Money(minor, acct[3])) for acct, minor in legs])


_TXN_INSERT = (
    "INSERT INTO payments_transaction (kind, reference, idempotency_key, fingerprint, actor_id, actor_label, created_at, memo) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)

# The whole booking in one statement (PostgreSQL). ``a`` locks the accounts in ascending id order
# and reads their latest balances; ``ok`` says every account exists and may take its delta; only
# then is the transaction row inserted (the unique key makes a repeat insert nothing), and only if
# it was inserted are the balances updated and the entries written. Nothing is written otherwise,
# so the statement is safe on its own in autocommit: one round trip per booking.
_BOOK_SQL = """
WITH l (ord, owner_kind, owner_id, kind, currency, minor) AS (VALUES {legs}),
v AS (SELECT owner_kind, owner_id, kind, currency, sum(minor) AS delta FROM l GROUP BY 1, 2, 3, 4),
a AS MATERIALIZED (
    SELECT acc.id, acc.owner_kind, acc.owner_id, acc.kind, acc.currency, acc.balance_minor, acc.allow_negative, v.delta
      FROM payments_account acc JOIN v ON acc.owner_kind = v.owner_kind AND acc.owner_id = v.owner_id
           AND acc.kind = v.kind AND acc.currency = v.currency
     ORDER BY acc.id FOR UPDATE OF acc),
ok AS (SELECT count(*) = %s AND coalesce(bool_and(allow_negative OR balance_minor + delta >= 0), false) AS ok FROM a),
t AS (
    INSERT INTO payments_transaction (kind, reference, idempotency_key, fingerprint, actor_id, actor_label, created_at, memo)
    SELECT %s, %s, %s, %s, %s::bigint, %s, %s::timestamptz, %s::jsonb WHERE (SELECT ok FROM ok)
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING id),
u AS (
    UPDATE payments_account acc SET balance_minor = acc.balance_minor + a.delta FROM a
     WHERE acc.id = a.id AND EXISTS (SELECT 1 FROM t) RETURNING acc.id),
e AS (
    INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at)
    SELECT t.id, a.id, l.currency, l.minor,
           a.balance_minor + sum(l.minor) OVER (PARTITION BY a.id ORDER BY l.ord), %s::timestamptz
      FROM l JOIN a ON a.owner_kind = l.owner_kind AND a.owner_id = l.owner_id AND a.kind = l.kind
           AND a.currency = l.currency
     CROSS JOIN t
    RETURNING 1)
SELECT (SELECT id FROM t), (SELECT ok FROM ok), (SELECT count(*) FROM a), (SELECT count(*) FROM u), (SELECT count(*) FROM e)
"""


def _post_pg(txn_row: list, legs, deltas: dict[AccountKey, int], now) -> int | None:
    """Book in one statement; returns the transaction id, or None when ``key`` was booked before.

    Outside a caller's transaction the statement runs in autocommit (it is atomic by itself);
    inside one it joins it. A first credit to a wallet creates the account, then books again.
    """
    sql = _BOOK_SQL.format(legs=", ".join(["(%s::int, %s::text, %s::bigint, %s::text, %s::text, %s::bigint)"] * len(legs)))
    params = [x for i, (acct, minor) in enumerate(legs) for x in (i, *acct, minor)]
    params += [len(deltas), *txn_row, now]
    for attempt in range(2):
        cursor = _prepared_cursor()
        cursor.execute(sql, params, prepare=True)
        txn_id, ok, found, updated, written = cursor.fetchone()
        if txn_id is not None:
            if updated != len(deltas) or written != len(legs):  # pragma: no cover - guarded by ok
                raise DomainError(ErrorCode.UNBALANCED_TRANSACTION, "The booking was incomplete.")
            return txn_id
        if ok or Transaction.objects.filter(idempotency_key=txn_row[2]).exists():
            return None  # booked before: a replay
        if found < len(deltas) and attempt == 0:
            # Create what a first credit needs (another booking may have just done it), then retry.
            existing = _select_accounts(set(deltas))
            creatable = {k for k in deltas if k not in existing and (deltas[k] > 0 or k[0] == PLATFORM)}
            if creatable:
                _accounts(creatable, creatable=creatable)
            continue
        break
    existing = _select_accounts(set(deltas))
    short = next((k for k in deltas if k not in existing), None) or next(k for k in deltas if deltas[k] < 0 and k[0] != PLATFORM)
    raise _insufficient(short)


def _post_portable(txn_row: list, legs, deltas: dict[AccountKey, int], now) -> int | None:
    """The same steps one statement at a time (SQLite, the zero-setup demo, has no FOR UPDATE)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_TXN_INSERT, txn_row)
        row = cursor.fetchone()
        if row is None:
            return None
        ids: dict = {}
        after: dict = {}
        _apply_new(cursor, list(deltas), deltas, ids, after)
        running = {acct: after[acct] - delta for acct, delta in deltas.items()}
        params: list = []
        for acct, minor in legs:
            running[acct] += minor
            params += [row[0], ids[acct], acct[3], minor, running[acct], now]
        cursor.execute(
            "INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at) VALUES "  # noqa: S608 - placeholders only
            + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(legs)),
            params,
        )
    return row[0]


def _prepared_cursor():
    """A server-side-binding psycopg cursor on Django's connection (same transaction), so that the
    two statements of every booking are prepared once per connection instead of parsed and planned
    each time: the hot path of the ledger."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _apply_new(cursor, missing: list[AccountKey], deltas, ids: dict, after: dict) -> None:
    """Create the accounts a first credit needs, then apply their deltas."""
    creatable = {k for k in missing if deltas[k] > 0 or k[0] == PLATFORM}
    found = _accounts(set(missing), creatable=creatable)
    for acct in sorted(missing, key=lambda k: found.get(k, 0)):
        if acct not in found:
            raise _insufficient(acct)  # a wallet that was never credited has nothing to spend
        cursor.execute(
            "UPDATE payments_account SET balance_minor = balance_minor + %s "
            "WHERE id = %s AND (allow_negative OR balance_minor + %s >= 0) RETURNING balance_minor",
            [deltas[acct], found[acct], deltas[acct]],
        )
        row = cursor.fetchone()
        if row is None:
            raise _insufficient(acct)
        ids[acct], after[acct] = found[acct], row[0]


def _insufficient(acct: AccountKey) -> DomainError:
    msg = _("Not enough money in the %(currency)s wallet.") % {"currency": acct[3]}
    return DomainError(ErrorCode.INSUFFICIENT_FUNDS, msg, {"amount": [msg]})


def _replay(key: str, fingerprint: str) -> TxnInfo:
    txn = Transaction.objects.get(idempotency_key=key)
    if txn.fingerprint != fingerprint:
        raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, "This idempotency key was used for a different request.",
                          {"idempotency_key": ["Already used with a different request."]})
    return txn_info(txn, booked=False)


def txn_info(txn: Transaction, booked: bool = True) -> TxnInfo:
    entries = [
        (e.account.label, Money(e.amount_minor, e.currency))
        for e in txn.entries.select_related("account").order_by("id")
    ]
    return TxnInfo(id=txn.pk, kind=txn.kind, reference=txn.reference, entries=entries, booked=booked)


def _existing(key: str) -> TxnInfo | None:
    txn = Transaction.objects.filter(idempotency_key=key).first()
    return txn_info(txn, booked=False) if txn else None


# --- services ----------------------------------------------------------------------


def top_up(*, owner: Owner, amount: Money, provider: str, provider_event_id: str, actor) -> TxnInfo:
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


def transfer(*, source: Owner, destination: Owner, amount: Money, kind: str = TxnKind.TRANSFER, reference: str,
             idempotency_key: str, actor) -> TxnInfo:
    """Wallet to wallet in one currency. Idempotent per ``idempotency_key``."""
    _check_owner(source, "source")
    _check_owner(destination, "destination")
    check_amount(amount)
    if source == destination:
        raise DomainError(ErrorCode.VALIDATION, "Source and destination are the same wallet.",
                          {"destination": ["Must differ from the source."]})
    kind = _check_kind(kind)
    return _post(
        kind=kind, reference=reference, key=f"transfer:{idempotency_key}",
        fingerprint=_fingerprint(source=source.label, destination=destination.label, amount=amount.minor,
                                 currency=amount.currency, kind=kind, reference=reference),
        legs=[(wallet(source, amount.currency), -amount.minor), (wallet(destination, amount.currency), amount.minor)],
        actor=actor,
    )


def charge(*, payer: Owner, amount: Money, kind: str, reference: str, idempotency_key: str, actor) -> TxnInfo:
    """From a wallet to the platform account of ``kind`` (duty -> customs_duty, fee, shipping)."""
    _check_owner(payer, "payer")
    check_amount(amount)
    account = CHARGE_ACCOUNTS.get(kind)
    if account is None:
        raise DomainError(ErrorCode.VALIDATION, f"Unknown charge kind {kind!r}.",
                          {"kind": [f"One of {', '.join(CHARGE_ACCOUNTS)}."]})
    return _post(
        kind=kind, reference=reference, key=f"charge:{idempotency_key}",
        fingerprint=_fingerprint(payer=payer.label, amount=amount.minor, currency=amount.currency, kind=kind,
                                 reference=reference),
        legs=[(wallet(payer, amount.currency), -amount.minor), (platform(account, amount.currency), amount.minor)],
        actor=actor,
    )


def _check_kind(kind: str) -> str:
    if kind not in TxnKind.values:
        raise DomainError(ErrorCode.VALIDATION, f"Unknown transaction kind {kind!r}.", {"kind": ["Unknown kind."]})
    return str(kind)


@dataclass(frozen=True)
class TransferRequest:
    source: Owner
    destination: Owner
    amount: Money
    reference: str
    idempotency_key: str
    kind: str = TxnKind.TRANSFER


def transfer_batch(*, transfers: list[TransferRequest], actor) -> list[TxnInfo]:
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
            raise DomainError(ErrorCode.VALIDATION, "Source and destination are the same wallet.",
                              {"destination": ["Must differ from the source."]})
    keys = [f"transfer:{t.idempotency_key}" for t in transfers]
    if len(set(keys)) != len(keys):
        raise DomainError(ErrorCode.VALIDATION, "Idempotency keys repeat within the batch.", {"transfers": ["Duplicate key."]})
    if connection.vendor != "postgresql":
        # The zero-setup demo (SQLite) books them one by one, still in one transaction.
        with transaction.atomic():
            return [transfer(source=t.source, destination=t.destination, amount=t.amount, kind=t.kind,
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
            credited = {acct for _, acct, minor in legs if minor > 0}
            wanted = {acct for _, acct, _ in legs}
            ids = _accounts(wanted, creatable=credited)
            if len(ids) < len(wanted):
                raise _insufficient(next(acct for acct in wanted if acct not in ids))
            deltas: dict[int, int] = defaultdict(int)
            for _, acct, minor in legs:
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
    return [results[key] or _replay_quick(key) for key in keys]


def _replay_quick(key: str) -> TxnInfo:
    txn = Transaction.objects.get(idempotency_key=key)
    return txn_info(txn, booked=False)


# --- escrow ----------------------------------------------------------------------------


def hold_in_escrow(*, payer: Owner, amount: Money, reference: str, actor) -> TxnInfo:
    """Move the payer's money into escrow for ``reference``. A second call with the same reference
    books nothing and returns the first hold (a different payer or amount is refused)."""
    _check_owner(payer, "payer")
    check_amount(amount)
    if not reference:
        raise DomainError(ErrorCode.VALIDATION, "A reference is required.", {"reference": ["Required."]})
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
            EscrowHold.objects.create(
                reference=reference, payer_kind=payer.kind, payer_id=payer.id, currency=amount.currency,
                amount_minor=amount.minor, hold_txn_id=info.id, created_at=now, updated_at=now,
            )
    return info


def _locked_hold(reference: str) -> EscrowHold:
    hold = EscrowHold.objects.select_for_update().filter(reference=reference).first()
    if hold is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"Nothing is held in escrow for {reference}.", {"reference": ["Unknown."]})
    return hold


def release_escrow(*, reference: str, payee: Owner, commission_rate: Decimal, actor) -> TxnInfo:
    """Pay what is still held for ``reference`` to ``payee``, then book the platform's commission
    from the payee's wallet (two transactions, so the seller's statement shows both). Idempotent."""
    _check_owner(payee, "payee")
    rate = _check_rate(commission_rate)
    key = f"escrow_release:{reference}"
    with transaction.atomic():
        hold = _locked_hold(reference)
        if hold.status == EscrowHold.Status.RELEASED:
            if (hold.payee_kind, hold.payee_id) != (payee.kind, payee.id):
                raise DomainError(ErrorCode.CONFLICT, f"{reference} was already released to another payee.")
            return _existing(key)
        if hold.open_minor == 0:
            raise DomainError(ErrorCode.CONFLICT, f"{reference} was refunded in full: nothing to release.")
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
        hold.released_minor = gross.minor
        hold.commission_minor = commission.minor
        hold.payee_kind, hold.payee_id = payee.kind, payee.id
        hold.status = EscrowHold.Status.RELEASED
        hold.updated_at = timezone.now()
        hold.save(update_fields=["released_minor", "commission_minor", "payee_kind", "payee_id", "status", "updated_at"])
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
        if hold.status != EscrowHold.Status.HELD:
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
        raise DomainError(ErrorCode.VALIDATION, "The commission rate must be a decimal from 0 up to 1.",
                          {"commission_rate": ["From 0 up to (not including) 1."]})
    return rate


def refund(*, reference: str, actor, amount: Money | None = None, idempotency_key: str | None = None) -> TxnInfo:
    """Return held money to the payer: all that is still held (``amount=None``) or part of it.

    Idempotent: the same call (same reference and amount, or the same ``idempotency_key``) books
    nothing more. Refused once the money was released to the payee.
    """
    key = f"refund:{reference}:{idempotency_key or (amount.minor if isinstance(amount, Money) else 'all')}"
    with transaction.atomic():
        hold = _locked_hold(reference)
        if (done := _existing(key)) is not None:
            return done
        if hold.status == EscrowHold.Status.RELEASED:
            raise DomainError(ErrorCode.CONFLICT, f"{reference} was already paid out to the seller; it cannot be refunded from escrow.")
        open_minor = hold.open_minor
        if amount is None:
            minor = open_minor
        else:
            check_amount(amount)
            if amount.currency != hold.currency:
                raise DomainError(ErrorCode.CURRENCY_MISMATCH, f"{reference} is held in {hold.currency}.",
                                  {"amount": [f"Must be in {hold.currency}."]})
            if amount.minor > open_minor:
                msg = f"Only {Money(open_minor, hold.currency)} is still held."
                raise DomainError(ErrorCode.INVALID_AMOUNT, msg, {"amount": [msg]})
            minor = amount.minor
        if minor == 0:
            raise DomainError(ErrorCode.CONFLICT, f"{reference} has nothing left to refund.")
        payer = Owner(hold.payer_kind, hold.payer_id)
        info = _post(
            kind=TxnKind.REFUND, reference=reference, key=key, fingerprint=_fingerprint(amount=minor),
            legs=[(_escrow_account(hold), -minor), (wallet(payer, hold.currency), minor)],
            actor=actor,
        )
        hold.refunded_minor += minor
        if hold.open_minor == 0:
            hold.status = EscrowHold.Status.REFUNDED
        hold.updated_at = timezone.now()
        hold.save(update_fields=["refunded_minor", "status", "updated_at"])
    return info


# --- FX ------------------------------------------------------------------------------


def spread() -> Decimal:
    return Decimal(str(settings.PAYMENTS_FX_SPREAD))


def conversion_quote(*, amount: Money, to_currency: str, as_of: date | None = None) -> ConversionQuote:
    """What converting ``amount`` into ``to_currency`` gives now, every minor unit accounted for.

    The spread is charged in the source currency (half-up); the rest buys whole minor units of the
    target at the mid rate, rounded down; source minor units too few to buy one more target minor
    unit are the rounding remainder, booked to the ``fx_rounding`` account rather than lost.
    """
    check_amount(amount)
    to_currency = check_wallet_currency(to_currency, "to_currency")
    if to_currency == amount.currency:
        raise DomainError(ErrorCode.VALIDATION, _("Choose a different currency to convert into."),
                          {"to_currency": [_("Choose a different currency to convert into.")]})
    rate = selectors.fx_rate(amount.currency, to_currency, as_of)
    sp = spread()
    fee = amount.times(sp)
    net = amount.minor - fee.minor
    with localcontext() as ctx:
        ctx.prec = 50
        # target minor units per source minor unit
        per_minor = rate.rate.scaleb(currencies()[to_currency] - currencies()[amount.currency])
        receive = int((Decimal(net) * per_minor).to_integral_value(rounding=ROUND_FLOOR))
        cost = int((Decimal(receive) / per_minor).to_integral_value(rounding=ROUND_CEILING)) if receive else 0
        applied = rate.rate * (1 - sp)
    with localcontext() as ctx:
        ctx.prec = 12
        applied = +applied
    if receive <= 0:
        msg = _("Too small to convert: it buys less than one minor unit of %(currency)s.") % {"currency": to_currency}
        raise DomainError(ErrorCode.INVALID_AMOUNT, msg, {"amount": [msg]})
    return ConversionQuote(
        amount=amount, receive=Money(receive, to_currency), mid_rate=rate.rate, rate=applied, spread=sp, fee=fee,
        rounding=Money(net - cost, amount.currency), cost=Money(cost, amount.currency), as_of=rate.as_of,
        source=rate.source,
    )


def convert(*, owner: Owner, amount: Money, to_currency: str, idempotency_key: str, actor) -> Conversion:
    """Convert at the current quote: two legs through the ``fx`` account, plus the spread and the
    rounding remainder to their named accounts. Idempotent per ``idempotency_key``."""
    _check_owner(owner)
    key = f"conversion:{owner.label}:{idempotency_key}"
    fingerprint = _fingerprint(owner=owner.label, amount=amount.minor if isinstance(amount, Money) else None,
                               currency=getattr(amount, "currency", None), to=to_currency)
    with transaction.atomic():
        txn = Transaction.objects.filter(idempotency_key=key).first()
        if txn is not None:  # a retry finds the first conversion even if the rate moved since
            info = _replay(key, fingerprint)
            return Conversion(quote=_quote_from_memo(txn.memo), txn=info)
        quote = conversion_quote(amount=amount, to_currency=to_currency)
        src, dst = amount.currency, quote.receive.currency
        info = _post(
            kind=TxnKind.CONVERSION, reference=f"fx:{src}-{dst}", key=key, fingerprint=fingerprint,
            legs=[
                (wallet(owner, src), -amount.minor),
                (platform(AccountKind.FX, src), quote.cost.minor),
                (platform(AccountKind.FX_SPREAD, src), quote.fee.minor),
                (platform(AccountKind.FX_ROUNDING, src), quote.rounding.minor),
                (platform(AccountKind.FX, dst), -quote.receive.minor),
                (wallet(owner, dst), quote.receive.minor),
            ],
            actor=actor, memo=quote.to_api(),
        )
    return Conversion(quote=quote, txn=info)


def _quote_from_memo(memo: dict) -> ConversionQuote:
    amount = Money.from_api(memo["amount"])
    rounding = Money.from_api(memo["rounding"])
    fee = Money.from_api(memo["fee"])
    return ConversionQuote(
        amount=amount, receive=Money.from_api(memo["receive"]), mid_rate=Decimal(memo["mid_rate"]),
        rate=Decimal(memo["rate"]), spread=Decimal(memo["spread"]), fee=fee, rounding=rounding,
        cost=amount - fee - rounding, as_of=date.fromisoformat(memo["as_of"]), source=memo["source"],
    )


def fx_rates_load(*, source: str | None = None, actor=SYSTEM_ACTOR) -> int:
    """Store the rates the configured provider publishes; a rate already stored for its day is
    updated, so a refresh is idempotent. Returns how many rates were stored."""
    provider = fx_gateways.get(source)
    rows = provider.fetch()
    known = set(currencies())
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for row in rows:
            if row.currency not in known or row.usd_per_unit <= 0:
                continue
            FxRate.objects.update_or_create(
                currency_id=row.currency, as_of=row.as_of, provider=provider.name,
                defaults={"usd_per_unit": row.usd_per_unit.quantize(Decimal("1e-12"), rounding=ROUND_HALF_UP),
                          "source": row.source, "status": row.status, "loaded_at": now},
            )
            count += 1
    return count


# --- provider webhooks -------------------------------------------------------------------


def webhook_receive(*, provider: str, headers, body: bytes) -> TxnInfo | None:
    """A payment provider's signed event. Refuses unsigned, wrongly signed, stale and replayed
    events before booking anything; a top-up event credits the wallet it names."""
    gateway = providers.get(provider)
    event = gateway.verify(headers, body)
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = ProviderEvent.objects.create(
                    provider=provider, event_id=event.id, event_type=event.type, payload=event.payload,
                    received_at=timezone.now(),
                )
        except IntegrityError:
            raise DomainError(ErrorCode.WEBHOOK_REPLAYED, f"Event {event.id} was already received.",
                              {"id": ["Already received."]}) from None
        if event.type != providers.TOP_UP_SUCCEEDED:
            return None  # stored for the record; nothing to book
        info = top_up(owner=event.owner, amount=event.amount, provider=provider, provider_event_id=event.id,
                      actor=SYSTEM_ACTOR)
        stored.txn_id = info.id
        stored.save(update_fields=["txn"])
    return info


def simulate_top_up(*, owner: Owner, amount: Money, actor) -> TxnInfo:
    """The demo's "Top up" button: the simulator signs a webhook and it goes through the same path."""
    _check_owner(owner)
    check_amount(amount)
    if not may_act_for(actor, owner):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "You may not top up this wallet.")
    simulator = providers.get(providers.SimulatorProvider.NAME)
    headers, body = simulator.top_up_event(owner=owner, amount=amount)
    return webhook_receive(provider=simulator.name, headers=headers, body=body)


# --- payouts -------------------------------------------------------------------------------


def request_payout(*, owner: Owner, amount: Money, actor) -> Payout:
    """A seller asks for its available balance to be paid out. The money moves at once to
    ``payouts_pending``; Celery then takes the payout through the gateway."""
    _check_owner(owner)
    check_amount(amount)
    if not (roles_of(actor) & Payout.REQUEST_ROLES or actor is SYSTEM_ACTOR) or not may_act_for(actor, owner):
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("Only a seller may request a payout of its own wallet."))
    gateway = payout_gateways.get()
    now = timezone.now()
    with transaction.atomic():
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
        from .. import tasks

        enqueue(tasks.process_payout, payout.pk)
    return payout


def process_payout(*, payout_id: int, actor=SYSTEM_ACTOR) -> Payout:
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
        return complete_payout(payout=payout, gateway_reference=result.reference, actor=actor)
    return fail_payout(payout=payout, reason=result.reason, actor=actor)


def complete_payout(*, payout: Payout, gateway_reference: str = "", actor) -> Payout:
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


def fail_payout(*, payout: Payout, reason: str, actor) -> Payout:
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


def new_idempotency_key() -> str:
    return uuid.uuid4().hex
