"""Property: any sequence of top-ups, transfers, conversions, holds, releases and refunds keeps
every transaction balanced per currency, all accounts per currency summing to zero, every
balance equal to its entries, and no wallet negative. Refused operations leave no trace; a booking
says truly whether it booked."""

import uuid
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.models import TransitionEvent
from core.money import Money
from payments import services
from payments.interface import Owner
from payments.models import Account, EscrowHold, Transaction

from .helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db

CURRENCIES = ["CNY", "KZT", "UZS"]
amounts = st.integers(min_value=1, max_value=5_000_000)
who = st.integers(min_value=0, max_value=2)
currency = st.sampled_from(CURRENCIES)
ref = st.integers(min_value=0, max_value=4)

operation = st.one_of(
    st.tuples(st.just("top_up"), who, amounts, currency),
    st.tuples(st.just("transfer"), who, who, amounts, currency),
    st.tuples(st.just("convert"), who, amounts, currency, currency),
    st.tuples(st.just("hold"), who, amounts, currency, ref),
    st.tuples(st.just("release"), ref, who, st.sampled_from(["0", "0.05", "0.125"])),
    st.tuples(st.just("refund"), ref, st.one_of(st.none(), amounts)),
)


@pytest.fixture
def owners(make_user, currencies):
    return [Owner.user(make_user(f"p{i}", "buyer")) for i in range(3)]


def _trace():
    """Everything an operation could leave behind: transactions, balances, holds, status events."""
    return (
        Transaction.objects.count(),
        list(Account.objects.order_by("pk").values_list("pk", "balance_minor")),
        list(EscrowHold.objects.order_by("pk").values_list("pk", "status", "refunded_minor", "released_minor")),
        TransitionEvent.objects.count(),
    )


def _apply(op, owners, run, key):
    match op:
        case ("top_up", i, minor, cur):
            return services.wallet_top_up(owner=owners[i], amount=Money(minor, cur), provider="simulator",
                                          provider_event_id=key, actor=SYSTEM_ACTOR)
        case ("transfer", i, j, minor, cur):
            return services.wallet_transfer(source=owners[i], destination=owners[j], amount=Money(minor, cur),
                                            reference="p", idempotency_key=key, actor=SYSTEM_ACTOR)
        case ("convert", i, minor, src, dst):
            return services.wallet_convert(owner=owners[i], amount=Money(minor, src), to_currency=dst,
                                           idempotency_key=key, actor=SYSTEM_ACTOR).txn
        case ("hold", i, minor, cur, r):
            return services.escrow_hold(payer=owners[i], amount=Money(minor, cur), reference=f"{run}-order:{r}",
                                        actor=SYSTEM_ACTOR)
        case ("release", r, j, rate):
            return services.escrow_release(reference=f"{run}-order:{r}", payee=owners[j],
                                           commission_rate=Decimal(rate), actor=SYSTEM_ACTOR)
        case ("refund", r, minor):
            return services.escrow_refund(reference=f"{run}-order:{r}", actor=SYSTEM_ACTOR,
                                          amount=None if minor is None else Money(minor, "CNY"))
    raise AssertionError(f"unknown operation {op}")


def test_any_sequence_keeps_the_ledger_balanced(owners):
    seen = Counter()

    @settings(max_examples=40, deadline=None)
    @given(ops=st.lists(operation, min_size=1, max_size=25))
    def any_sequence(ops):
        # examples share the test's database: fresh keys and references per example
        run = uuid.uuid4().hex
        for step, op in enumerate(ops):
            before = _trace()
            try:
                info = _apply(op, owners, run, key=f"{run}-{step}")
            except DomainError as exc:
                # only the refusals a user could cause; never an unbalanced or internal error
                assert exc.code in {"insufficient_funds", "validation_error", "invalid_amount", "not_found",
                                    "conflict", "currency_mismatch", "idempotency_key_reused"}, exc
                assert _trace() == before, f"{op} was refused ({exc.code}) but left a trace"
                seen["refused"] += 1
            else:
                # ``booked`` tells the truth: a replay books nothing, a booking adds transactions
                assert (Transaction.objects.count() > before[0]) == info.booked, op
                seen["booked" if info.booked else "replayed"] += 1
            assert_ledger_consistent()

    any_sequence()
    # The property is only tested if both roads were taken: some operations booked, some refused.
    assert seen["booked"] > 0 and seen["refused"] > 0, seen
