"""Ledger invariants, read straight from the tables (never through the code under test)."""

from django.db import connection


def assert_ledger_consistent():
    """Every transaction balanced per currency, every account's balance equal to the sum of its
    entries, all accounts per currency summing to zero, no wallet or escrow below zero."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT txn_id, currency, sum(amount_minor) FROM payments_entry GROUP BY txn_id, currency "
                       "HAVING sum(amount_minor) <> 0")
        assert cursor.fetchall() == [], "unbalanced transactions"
        cursor.execute(
            "SELECT a.id, a.balance_minor, coalesce(sum(e.amount_minor), 0) FROM payments_account a "
            "LEFT JOIN payments_entry e ON e.account_id = a.id GROUP BY a.id, a.balance_minor "
            "HAVING a.balance_minor <> coalesce(sum(e.amount_minor), 0)"
        )
        assert cursor.fetchall() == [], "balance column differs from the entries"
        cursor.execute("SELECT currency, sum(balance_minor) FROM payments_account GROUP BY currency "
                       "HAVING sum(balance_minor) <> 0")
        assert cursor.fetchall() == [], "money created or destroyed"
        cursor.execute("SELECT id, kind, balance_minor FROM payments_account WHERE NOT allow_negative AND balance_minor < 0")
        assert cursor.fetchall() == [], "negative wallet"


def wallet_minor(owner, currency) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT balance_minor FROM payments_account WHERE owner_kind = %s AND owner_id = %s "
                       "AND kind = 'wallet' AND currency = %s", [owner.kind, owner.id, currency])
        row = cursor.fetchone()
    return row[0] or 0 if row else 0


def platform_minor(kind, currency) -> int:
    with connection.cursor() as cursor:
        # Summed over the account's shards (escrow and commission are sharded by reference).
        cursor.execute("SELECT sum(balance_minor) FROM payments_account WHERE owner_kind = 'platform' AND kind = %s "
                       "AND currency = %s", [kind, currency])
        row = cursor.fetchone()
    return row[0] or 0 if row else 0
