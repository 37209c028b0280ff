"""The posting engine under every write of the payments app: each money movement is one balanced
ledger transaction. Also the checks every service makes of its arguments, and the account keys.

How a booking works (``_post``) on PostgreSQL: one call of the PL/pgSQL function ``payments_book``
(migration 0007), prepared once per connection. It finds the accounts by key, locks them in
ascending id order (concurrent bookings lock rows in the same order and so never deadlock), checks
every balance (the database, not Python, refuses to overdraw a wallet), then inserts the transaction
row with ``ON CONFLICT (idempotency_key) DO NOTHING`` (a repeated request finds its transaction and
books nothing; a concurrent duplicate waits on the unique index, then finds it too), updates the
balances and writes the entries in one statement; a trigger over that statement's rows re-checks
that they sum to zero per currency. A refusal writes nothing. On SQLite the same steps run one
statement at a time (``_post_portable``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode
from core.models import Company
from core.money import Money

from ..interface import COMPANY, PLATFORM, USER, Owner, TxnInfo
from ..models import MAY_GO_NEGATIVE, AccountKind, Transaction, TxnKind

# (owner_kind, owner_id, account kind, currency)
AccountKey = tuple[str, int, str, str]


# --- validation ------------------------------------------------------------------


def check_amount(amount, field: str = "amount") -> Money:
    """A positive, not absurd amount in a wallet currency, else a 400 naming ``field``."""
    if not isinstance(amount, Money):
        raise DomainError(ErrorCode.INVALID_AMOUNT, _("Amount must be money."),
                          {field: [_("Expected an amount and a currency.")]})
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
        raise DomainError(ErrorCode.VALIDATION, _("Unknown wallet owner."), {field: [_("Expected a user or a company.")]})
    return owner


def _owner_exists(owner: Owner) -> bool:
    if owner.kind == USER:
        return get_user_model().objects.filter(pk=owner.id).exists()
    return Company.objects.filter(pk=owner.id).exists()


# TxnKind.values builds its list on every access: a set, once, for the check of every posting.
_TXN_KINDS = frozenset(TxnKind.values)


def _check_kind(kind: str) -> str:
    if kind not in _TXN_KINDS:
        raise DomainError(ErrorCode.VALIDATION, _("Unknown transaction kind %(kind)s.") % {"kind": repr(kind)},
                          {"kind": [_("Unknown kind.")]})
    return str(kind)


def _fingerprint(**params) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def _actor(actor) -> tuple[int | None, str]:
    if actor is None or actor is SYSTEM_ACTOR:
        return None, "system"
    return actor.pk, actor.get_username()


# --- accounts --------------------------------------------------------------------


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
                raise DomainError(ErrorCode.VALIDATION, _("No such wallet owner %(owner)s.") % {"owner": f"{key[0]}:{key[1]}"},
                                  {"owner": [_("Unknown user or company.")]})
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
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A join on the keys' arrays: one statement text whatever their number (an OR of key groups
            # was a new statement, parsed and planned, for every size).
            cursor.execute(
                "SELECT a.id, a.owner_kind, a.owner_id, a.kind, a.currency FROM payments_account a "
                "JOIN unnest(%s::text[], %s::bigint[], %s::text[], %s::text[]) AS k(owner_kind, owner_id, kind, currency) "
                "ON a.owner_kind = k.owner_kind AND a.owner_id = k.owner_id AND a.kind = k.kind AND a.currency = k.currency",
                [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [k[3] for k in keys]],
            )
        else:
            where = " OR ".join(["(owner_kind = %s AND owner_id = %s AND kind = %s AND currency = %s)"] * len(keys))
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
        raise DomainError(ErrorCode.UNBALANCED_TRANSACTION, _("Refusing an unbalanced %(kind)s transaction.") % {"kind": kind})
    actor_id, actor_label = _actor(actor)
    now = timezone.now()
    txn_row = [kind, reference, key, fingerprint, actor_id, actor_label, now, json.dumps(memo) if memo else "{}"]
    if connection.vendor == "postgresql":
        txn_id = _post_pg(txn_row, legs)
    else:
        deltas: dict[AccountKey, int] = defaultdict(int)
        for acct, minor in legs:
            deltas[acct] += minor
        txn_id = _post_portable(txn_row, legs, deltas, now)
    if txn_id is None:
        return _replay(key, fingerprint)
    return TxnInfo(id=txn_id, kind=kind, reference=reference,
                   entries=[(_label(acct), Money(minor, acct[3])) for acct, minor in legs])


_TXN_INSERT = (
    "INSERT INTO payments_transaction (kind, reference, idempotency_key, fingerprint, actor_id, actor_label, created_at, memo) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)

# The whole booking in one call of a PL/pgSQL function (migration payments 0007): the accounts
# locked in ascending id order, every balance checked, then the transaction row (its unique key
# makes a repeat nothing), the balances and the entries; or nothing written, with the reason.
# Safe on its own in autocommit: one round trip per booking.
_BOOK_SQL = ("SELECT booked_id, outcome, refused_leg FROM payments_book(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, "
             "%s::text[], %s::bigint[], %s::text[], %s::text[], %s::bigint[])")


def _post_pg(txn_row: list, legs) -> int | None:
    """Book in one statement; returns the transaction id, or None when ``key`` was booked before.

    Outside a caller's transaction the statement runs in autocommit (it is atomic by itself);
    inside one it joins it. A first credit to a wallet creates the account, then books again.
    """
    params = [*txn_row, _text_array([a[0] for a, _m in legs]), _int_array([a[1] for a, _m in legs]), _text_array([a[2] for a, _m in legs]),
              _text_array([a[3] for a, _m in legs]), _int_array([m for _a, m in legs])]
    outcome, txn_id, refused = _book_pg(params)
    if outcome == "booked":
        return txn_id
    if outcome == "replay":
        return None
    if outcome == "short":
        raise _insufficient(legs[refused - 1][0])
    # An account is missing: create what a first credit needs (another booking may have just done it,
    # or booked this very key) and book again, in one transaction: a booking refused anyway (a debit
    # short) leaves no empty account behind.
    deltas: dict[AccountKey, int] = defaultdict(int)
    for acct, minor in legs:
        deltas[acct] += minor
    existing = _select_accounts(set(deltas))
    creatable = {k for k in deltas if k not in existing and (deltas[k] > 0 or k[0] == PLATFORM)}
    with transaction.atomic():
        if creatable:
            _accounts(creatable, creatable=creatable)
        outcome, txn_id, refused = _book_pg(params)
        if outcome == "booked":
            return txn_id
        if outcome == "replay":
            return None
        raise _insufficient(legs[refused - 1][0] if outcome == "short" else _short(deltas))


def _book_pg(params: list) -> tuple[str, int | None, int | None]:
    """Run the booking function once: (outcome, transaction id, refused leg)."""
    cursor = sql.cursor()
    cursor.execute(_BOOK_SQL, params)
    txn_id, outcome, refused = cursor.fetchone()
    return outcome, txn_id, refused


def _short(deltas: dict[AccountKey, int]) -> AccountKey:
    """The account that refused the booking: one missing, else a debited wallet."""
    existing = _select_accounts(set(deltas))
    return next((k for k in deltas if k not in existing), None) or next(k for k in deltas if deltas[k] < 0 and k[0] != PLATFORM)


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


def _int_array(values) -> str:
    """A PostgreSQL array literal of integers, for a ``%s::bigint[]`` parameter. The arrays of the
    booking functions go as literals: psycopg's list adaptation, in Python, cost more per booking
    (0.25 ms for the five arrays of a transfer) than the rest of the call."""
    return "{" + ",".join([str(int(v)) for v in values]) + "}"


def _text_array(values) -> str:
    """A PostgreSQL array literal of strings, every element quoted, for a ``%s::text[]`` parameter."""
    return "{" + ",".join(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]) + "}"


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
        raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, _("This idempotency key was used for a different request."),
                          {"idempotency_key": [_("Already used with a different request.")]})
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


def new_idempotency_key() -> str:
    return uuid.uuid4().hex
