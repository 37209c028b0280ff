"""Concurrent spending on PostgreSQL: no double spend, no lost update, no deadlock."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from core.errors import DomainError
from core.money import Money
from payments import services
from payments.interface import Owner

from .helpers import assert_ledger_consistent, wallet_minor

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(count: int, work):
    barrier = threading.Barrier(count)

    def worker(i):
        try:
            barrier.wait()
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def test_fifty_spenders_on_a_wallet_that_affords_twenty(make_user, fund):
    payer = Owner.user(make_user("payer", "buyer"))
    payees = [Owner.user(make_user(f"payee{i}", "buyer")) for i in range(5)]
    fund(payer, "200.00", "KZT")

    def spend(i):
        try:
            services.wallet_transfer(source=payer, destination=payees[i % 5], amount=Money.of("10.00", "KZT"),
                                     reference=f"order:{i}", idempotency_key=f"spend-{i}", actor=None)
            return "ok"
        except DomainError as exc:
            return exc.code

    outcomes = run_in_threads(50, spend)
    assert outcomes.count("ok") == 20
    assert set(outcomes) == {"ok", "insufficient_funds"}
    assert wallet_minor(payer, "KZT") == 0
    assert sum(wallet_minor(p, "KZT") for p in payees) == 20000
    assert_ledger_consistent()


def test_escrow_holds_racing_on_one_wallet_never_overdraw_it(make_user, fund):
    payer = Owner.user(make_user("payer", "buyer"))
    fund(payer, "30.00", "CNY")

    def hold(i):
        try:
            services.escrow_hold(payer=payer, amount=Money.of("10.00", "CNY"), reference=f"order:{i}", actor=None)
            return "ok"
        except DomainError as exc:
            return exc.code

    assert run_in_threads(12, hold).count("ok") == 3
    assert wallet_minor(payer, "CNY") == 0
    assert_ledger_consistent()


def test_opposite_transfers_between_two_wallets_finish_without_deadlock(make_user, fund):
    a, b = Owner.user(make_user("a", "buyer")), Owner.user(make_user("b", "buyer"))
    fund(a, "100.00", "UZS")
    fund(b, "100.00", "UZS")

    def ping_pong(i):
        source, destination = (a, b) if i % 2 else (b, a)
        for n in range(15):
            services.wallet_transfer(source=source, destination=destination, amount=Money.of("1.00", "UZS"),
                                     reference="pp", idempotency_key=f"pp-{i}-{n}", actor=None)
        return "ok"

    # a deadlock would surface as an OperationalError from PostgreSQL's detector
    assert run_in_threads(8, ping_pong) == ["ok"] * 8
    assert wallet_minor(a, "UZS") == wallet_minor(b, "UZS") == 10000
    assert_ledger_consistent()


def test_the_same_request_sent_concurrently_books_once(make_user, fund):
    payer, payee = Owner.user(make_user("payer", "buyer")), Owner.user(make_user("payee", "buyer"))
    fund(payer, "100.00", "KGS")

    def send(i):
        return services.wallet_transfer(source=payer, destination=payee, amount=Money.of("60.00", "KGS"), reference="dup",
                                        idempotency_key="one-key", actor=None).id

    assert len(set(run_in_threads(10, send))) == 1
    assert wallet_minor(payer, "KGS") == 4000 and wallet_minor(payee, "KGS") == 6000
