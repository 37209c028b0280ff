"""The ledger in few statements (issue 14): a posting is one statement, a batch of transfers one
statement whatever its size, and the database still refuses what does not balance, with its
check run once per INSERT statement (migration payments 0006)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.access import SYSTEM_ACTOR
from core.money import Money
from payments import services
from payments.interface import Owner

from .helpers import assert_ledger_consistent


def test_a_transfer_is_one_statement(alice, bob, fund):
    fund(Owner.user(alice), "100.00", "CNY")
    fund(Owner.user(bob), "1.00", "CNY")
    with CaptureQueriesContext(connection) as ctx:
        info = services.wallet_transfer(source=Owner.user(alice), destination=Owner.user(bob), amount=Money.of("1.00", "CNY"),
                                        reference="t", idempotency_key="one-statement", actor=SYSTEM_ACTOR)
    assert info.booked
    assert len(ctx.captured_queries) == 1
    assert_ledger_consistent()


@pytest.mark.parametrize("size", [3, 30])
def test_a_batch_takes_the_same_statements_whatever_its_size(alice, bob, fund, size):
    fund(Owner.user(alice), "1000.00", "CNY")
    fund(Owner.user(bob), "1000.00", "CNY")
    batch = [services.TransferRequest(Owner.user(alice) if i % 2 else Owner.user(bob), Owner.user(bob) if i % 2 else Owner.user(alice),
                                      Money.of("1.00", "CNY"), "batch", f"batch-{size}-{i}") for i in range(size)]
    with CaptureQueriesContext(connection) as ctx:
        infos = services.wallet_transfer_batch(transfers=batch, actor=SYSTEM_ACTOR)
    assert all(info.booked for info in infos)
    # one call of payments_book_batch (migration payments 0007); it was 7 statements: savepoint,
    # transactions, account ids, row locks, balances, entries, release
    assert len(ctx.captured_queries) == 1
    assert_ledger_consistent()


def test_one_insert_with_a_balanced_and_an_unbalanced_transaction_is_refused_whole(alice, bob, fund):
    one = fund(Owner.user(alice), "1.00", "CNY")
    two = fund(Owner.user(bob), "1.00", "CNY")
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at) "
            "SELECT t.txn, a.id, a.currency, t.amount, 0, now() FROM payments_account a, "
            "(VALUES (%s::bigint, 5), (%s::bigint, -5), (%s::bigint, 7)) AS t(txn, amount) WHERE a.kind = 'wallet' "
            "AND a.owner_id = %s", [one.id, one.id, two.id, alice.pk])
    assert_ledger_consistent()


def test_an_entry_in_another_currency_than_its_account_is_refused(alice, fund):
    info = fund(Owner.user(alice), "1.00", "CNY")
    with pytest.raises(IntegrityError, match="not its account"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at) "
            "SELECT %s, id, 'KZT', amount, 0, now() FROM payments_account, (VALUES (5), (-5)) AS t(amount) "
            "WHERE kind = 'wallet' AND owner_id = %s", [info.id, alice.pk])
