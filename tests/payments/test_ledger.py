"""The ledger: every movement balanced, idempotent, never overdrawing a wallet."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.money import Money
from payments import selectors, services
from payments.interface import Owner
from payments.models import Account, EscrowHold, Transaction

from .helpers import assert_ledger_consistent, platform_minor, wallet_minor

pytestmark = pytest.mark.django_db


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def test_top_up_credits_the_wallet_from_provider_clearing(alice, fund):
    info = fund(Owner.user(alice), "250.00", "CNY")
    assert info.booked and info.kind == "top_up"
    assert dict(info.entries) == {"provider_clearing": cny("-250.00"), f"user:{alice.pk}": cny("250.00")}
    [balance] = selectors.balances(owner=Owner.user(alice))
    assert (balance.currency, balance.available, balance.held, balance.balance) == ("CNY", cny("250.00"), cny("0"), cny("250.00"))
    assert_ledger_consistent()


def test_the_same_provider_event_twice_books_once(alice, currencies):
    kwargs = {"owner": Owner.user(alice), "amount": cny("10.00"), "provider": "simulator", "provider_event_id": "evt_1", "actor": SYSTEM_ACTOR}
    first = services.wallet_top_up(**kwargs)
    again = services.wallet_top_up(**kwargs)
    assert again.id == first.id and not again.booked
    assert wallet_minor(Owner.user(alice), "CNY") == 1000


def test_transfer_moves_money_and_writes_running_balances(alice, bob, fund):
    a, b = Owner.user(alice), Owner.user(bob)
    fund(a, "100.00", "CNY")
    services.wallet_transfer(source=a, destination=b, amount=cny("30.50"), kind="transfer", reference="gift:1",
                             idempotency_key="k1", actor=alice)
    assert wallet_minor(a, "CNY") == 6950 and wallet_minor(b, "CNY") == 3050
    lines = list(selectors.statement(owner=a, currency="CNY"))
    assert [(e.txn.kind, e.amount_minor, e.balance_after) for e in lines] == [("transfer", -3050, 6950), ("top_up", 10000, 10000)]
    assert_ledger_consistent()


def test_insufficient_funds_is_409_and_books_nothing(alice, bob, fund):
    a, b = Owner.user(alice), Owner.user(bob)
    fund(a, "10.00", "CNY")
    before = Transaction.objects.count()
    with pytest.raises(DomainError) as err:
        services.wallet_transfer(source=a, destination=b, amount=cny("10.01"), reference="x", idempotency_key="k", actor=alice)
    assert err.value.code == "insufficient_funds" and err.value.status == 409 and "amount" in err.value.fields
    assert Transaction.objects.count() == before
    assert wallet_minor(a, "CNY") == 1000
    # not even the empty wallet the credit would have needed
    assert not Account.objects.filter(owner_kind="user", owner_id=bob.pk).exists()


def test_spending_from_a_wallet_never_funded_is_insufficient_funds(alice, bob, currencies):
    with pytest.raises(DomainError) as err:
        services.wallet_transfer(source=Owner.user(alice), destination=Owner.user(bob), amount=cny("1.00"), reference="x",
                                 idempotency_key="k", actor=alice)
    assert err.value.code == "insufficient_funds"


def test_replayed_transfer_books_nothing_more_and_a_reused_key_is_refused(alice, bob, fund):
    a, b = Owner.user(alice), Owner.user(bob)
    fund(a, "100.00", "CNY")
    args = {"source": a, "destination": b, "amount": cny("40.00"), "reference": "r", "idempotency_key": "same", "actor": alice}
    first = services.wallet_transfer(**args)
    second = services.wallet_transfer(**args)
    assert second.id == first.id and not second.booked
    assert wallet_minor(a, "CNY") == 6000
    with pytest.raises(DomainError) as err:
        services.wallet_transfer(**{**args, "amount": cny("41.00")})
    assert err.value.code == "idempotency_key_reused"
    assert wallet_minor(a, "CNY") == 6000


@pytest.mark.parametrize(
    ("amount", "code"),
    [(Money(0, "CNY"), "invalid_amount"), (Money(-5, "CNY"), "invalid_amount"),
     (Money(10**15, "CNY"), "invalid_amount"), (Money(100, "EUR"), "unknown_currency")],
)
def test_bad_amounts_name_the_field(alice, bob, fund, amount, code):
    fund(Owner.user(alice), "100.00", "CNY")
    with pytest.raises(DomainError) as err:
        services.wallet_transfer(source=Owner.user(alice), destination=Owner.user(bob), amount=amount, reference="r",
                                 idempotency_key="k", actor=alice)
    assert err.value.code == code and "amount" in err.value.fields and err.value.status == 400


def test_transfer_to_oneself_is_refused(alice, fund):
    fund(Owner.user(alice), "1.00", "CNY")
    with pytest.raises(DomainError) as err:
        services.wallet_transfer(source=Owner.user(alice), destination=Owner.user(alice), amount=cny("1.00"), reference="r",
                                 idempotency_key="k", actor=alice)
    assert "destination" in err.value.fields


def test_crediting_an_owner_that_does_not_exist_is_refused(currencies):
    with pytest.raises(DomainError) as err:
        services.wallet_top_up(owner=Owner("user", 987654), amount=cny("1.00"), provider="simulator", provider_event_id="e",
                               actor=SYSTEM_ACTOR)
    assert "owner" in err.value.fields


# --- escrow ------------------------------------------------------------------------------


def test_escrow_hold_release_pays_the_seller_minus_commission(alice, fund, seller_company):
    buyer, seller = Owner.user(alice), Owner.company(seller_company[1].pk)
    fund(buyer, "1000.00", "CNY")
    hold = services.escrow_hold(payer=buyer, amount=cny("199.99"), reference="order:1", actor=alice)
    [b] = selectors.balances(owner=buyer)
    assert (b.available, b.held, b.balance) == (cny("800.01"), cny("199.99"), cny("1000.00"))
    again = services.escrow_hold(payer=buyer, amount=cny("199.99"), reference="order:1", actor=alice)
    assert again.id == hold.id and not again.booked and wallet_minor(buyer, "CNY") == 80001

    services.escrow_release(reference="order:1", payee=seller, commission_rate=Decimal("0.05"), actor=SYSTEM_ACTOR)
    # 5 % of 199.99 = 9.9995 -> 10.00 (half-up): the seller keeps 189.99
    assert wallet_minor(seller, "CNY") == 18999
    assert platform_minor("commission", "CNY") == 1000
    assert platform_minor("escrow", "CNY") == 0
    kinds = [e.txn.kind for e in selectors.statement(owner=seller, currency="CNY")]
    assert kinds == ["commission", "escrow_release"]
    # releasing again books nothing
    repeat = services.escrow_release(reference="order:1", payee=seller, commission_rate=Decimal("0.05"), actor=SYSTEM_ACTOR)
    assert not repeat.booked and wallet_minor(seller, "CNY") == 18999
    [b] = selectors.balances(owner=buyer)
    assert b.held == cny("0") and b.balance == cny("800.01")
    assert_ledger_consistent()


def test_duties_paid_out_of_escrow_are_no_longer_held(alice, fund):
    """Customs assessed 12.00 of the 20.00 prepaid: 12.00 goes to customs, 8.00 back to the buyer."""
    buyer = Owner.user(alice)
    fund(buyer, "200.00", "CNY")
    services.escrow_hold(payer=buyer, amount=cny("120.00"), reference="order:5", actor=alice)
    services.escrow_pay_duty(reference="order:5", assessed=cny("12.00"), prepaid=cny("20.00"), actor=SYSTEM_ACTOR)
    [b] = selectors.balances(owner=buyer)
    assert (b.available, b.held, b.balance) == (cny("88.00"), cny("100.00"), cny("188.00"))
    assert EscrowHold.objects.get(reference="order:5").open_minor == 10000
    assert platform_minor("customs_duty", "CNY") == 1200
    assert_ledger_consistent()


def test_a_hold_the_payer_cannot_afford_is_refused_and_nothing_is_recorded(alice, fund):
    fund(Owner.user(alice), "5.00", "CNY")
    with pytest.raises(DomainError) as err:
        services.escrow_hold(payer=Owner.user(alice), amount=cny("5.01"), reference="order:9", actor=alice)
    assert err.value.code == "insufficient_funds"
    assert not EscrowHold.objects.filter(reference="order:9").exists()


def test_partial_then_full_refund_returns_exactly_what_was_held(alice, fund):
    buyer = Owner.user(alice)
    fund(buyer, "100.00", "CNY")
    services.escrow_hold(payer=buyer, amount=cny("60.00"), reference="order:2", actor=alice)
    services.escrow_refund(reference="order:2", amount=cny("15.00"), actor=SYSTEM_ACTOR)
    assert wallet_minor(buyer, "CNY") == 5500
    assert not services.escrow_refund(reference="order:2", amount=cny("15.00"), actor=SYSTEM_ACTOR).booked
    with pytest.raises(DomainError) as err:
        services.escrow_refund(reference="order:2", amount=cny("45.01"), actor=SYSTEM_ACTOR)
    assert err.value.code == "invalid_amount"
    with pytest.raises(DomainError) as err:
        services.escrow_refund(reference="order:2", amount=Money.of("1", "KZT"), actor=SYSTEM_ACTOR)
    assert err.value.code == "currency_mismatch"
    services.escrow_refund(reference="order:2", actor=SYSTEM_ACTOR)
    assert wallet_minor(buyer, "CNY") == 10000
    assert not services.escrow_refund(reference="order:2", actor=SYSTEM_ACTOR).booked
    assert EscrowHold.objects.get(reference="order:2").status == "refunded"
    with pytest.raises(DomainError) as err:
        services.escrow_release(reference="order:2", payee=Owner.user(alice), commission_rate=Decimal("0.1"), actor=SYSTEM_ACTOR)
    assert err.value.code == "conflict"
    assert_ledger_consistent()


def test_refund_after_release_is_a_conflict(alice, bob, fund):
    fund(Owner.user(alice), "10.00", "CNY")
    services.escrow_hold(payer=Owner.user(alice), amount=cny("10.00"), reference="order:3", actor=alice)
    services.escrow_release(reference="order:3", payee=Owner.user(bob), commission_rate=Decimal("0"), actor=SYSTEM_ACTOR)
    with pytest.raises(DomainError) as err:
        services.escrow_refund(reference="order:3", actor=SYSTEM_ACTOR)
    assert err.value.code == "conflict" and err.value.status == 409
    assert wallet_minor(Owner.user(bob), "CNY") == 1000


def test_unknown_escrow_reference_is_404(currencies):
    with pytest.raises(DomainError) as err:
        services.escrow_refund(reference="order:404", actor=SYSTEM_ACTOR)
    assert err.value.status == 404


@pytest.mark.parametrize("rate", ["1", "-0.1", "abc", "NaN"])
def test_a_commission_rate_outside_0_to_1_is_refused(alice, bob, fund, rate):
    fund(Owner.user(alice), "10.00", "CNY")
    services.escrow_hold(payer=Owner.user(alice), amount=cny("10.00"), reference="order:4", actor=alice)
    with pytest.raises(DomainError) as err:
        services.escrow_release(reference="order:4", payee=Owner.user(bob), commission_rate=rate, actor=SYSTEM_ACTOR)
    assert "commission_rate" in err.value.fields


def test_charge_books_duty_to_the_customs_duty_account(alice, fund):
    fund(Owner.user(alice), "100.00", "CNY")
    info = services.wallet_charge(payer=Owner.user(alice), amount=cny("12.34"), kind="duty", reference="declaration:7",
                                  idempotency_key="decl-7", actor=SYSTEM_ACTOR)
    assert info.kind == "duty" and info.amount_for("customs_duty") == cny("12.34")
    assert platform_minor("customs_duty", "CNY") == 1234 and wallet_minor(Owner.user(alice), "CNY") == 8766
    with pytest.raises(DomainError) as err:
        services.wallet_charge(payer=Owner.user(alice), amount=cny("1.00"), kind="bribe", reference="x", idempotency_key="y",
                               actor=SYSTEM_ACTOR)
    assert "kind" in err.value.fields


# --- what the database itself refuses -------------------------------------------------------


def test_the_database_refuses_a_negative_wallet_balance(alice, fund):
    fund(Owner.user(alice), "1.00", "CNY")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE payments_account SET balance_minor = -1 WHERE kind = 'wallet'")


def test_the_database_refuses_an_unbalanced_transaction(alice, fund):
    """Entries added to a booked transaction that do not sum to zero are refused by a trigger."""
    info = fund(Owner.user(alice), "1.00", "CNY")
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at) "
            "SELECT %s, id, currency, 5, 0, now() FROM payments_account WHERE kind = 'wallet'", [info.id])


def test_the_database_refuses_an_account_with_a_bad_key(alice, fund):
    """The key's rules hold on INSERT, and a key never changes; a balance still moves (a trigger,
    not CHECK constraints, which PostgreSQL would evaluate at every booking)."""
    fund(Owner.user(alice), "1.00", "CNY")
    insert = ("INSERT INTO payments_account (owner_kind, owner_id, kind, currency, balance_minor, allow_negative, created_at) "
              "VALUES (%s, %s, %s, 'CNY', 0, false, now())")
    for sql, params, rule in [
        (insert, ["robot", 1, "wallet"], "account_owner_kind_valid"),
        (insert, ["user", alice.pk, "escrow"], "account_only_wallets_are_owned"),
        ("UPDATE payments_account SET currency = 'USD' WHERE kind = 'wallet'", [], "account_key_fixed"),
        ("UPDATE payments_account SET owner_id = %s WHERE kind = 'wallet'", [alice.pk + 1], "account_key_fixed"),
    ]:
        with pytest.raises(IntegrityError, match=rule), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert Account.objects.filter(owner_kind="user").count() == 1
    Account.objects.get(owner_kind="user").save()  # the ORM writes every column: an unchanged key is no change
    services.wallet_charge(payer=Owner.user(alice), amount=cny("0.40"), kind="fee", reference="t", idempotency_key="fee-1",
                           actor=None)
    assert wallet_minor(Owner.user(alice), "CNY") == 60
    assert_ledger_consistent()


def test_entries_and_transactions_are_append_only(alice, fund):
    fund(Owner.user(alice), "1.00", "CNY")
    for sql in ("UPDATE payments_entry SET amount_minor = 1000000", "DELETE FROM payments_entry",
                "UPDATE payments_transaction SET kind = 'refund'"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert wallet_minor(Owner.user(alice), "CNY") == 100


def test_a_batch_of_transfers_is_all_or_nothing_and_idempotent(alice, bob, fund):
    a, b = Owner.user(alice), Owner.user(bob)
    fund(a, "10.00", "CNY")
    batch = [services.TransferRequest(a, b, cny("3.00"), "batch", f"b-{i}") for i in range(3)]
    infos = services.wallet_transfer_batch(transfers=batch, actor=SYSTEM_ACTOR)
    assert [i.booked for i in infos] == [True] * 3 and wallet_minor(b, "CNY") == 900
    # one more transfer than a can afford: the whole batch is refused, the replayed ones book nothing
    more = [*batch, services.TransferRequest(a, b, cny("1.01"), "batch", "b-3")]
    with pytest.raises(DomainError) as err:
        services.wallet_transfer_batch(transfers=more, actor=SYSTEM_ACTOR)
    assert err.value.code == "insufficient_funds"
    assert wallet_minor(a, "CNY") == 100 and wallet_minor(b, "CNY") == 900
    again = services.wallet_transfer_batch(transfers=batch, actor=SYSTEM_ACTOR)
    assert [i.booked for i in again] == [False] * 3 and [i.id for i in again] == [i.id for i in infos]
    lines = list(selectors.statement(owner=b, currency="CNY"))
    assert [e.balance_after for e in lines] == [900, 600, 300]
    assert_ledger_consistent()
