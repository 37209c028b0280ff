"""The usual payment on PostgreSQL is one call of ``orders_pay`` (issue 14). It must write what the
general path writes, row for row, and refuse what the general path refuses, writing nothing."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import DomainError
from core.models import TransitionEvent
from orders.models import Order
from orders.services import checkout, order_pay, order_place
from payments.models import Account, Entry, EscrowHold, Transaction
from warehouses.models import Reservation

from .conftest import KZ_ADDRESS, fund

pytestmark = pytest.mark.django_db


def _place(buyer, product) -> Order:
    return order_place(buyer=buyer, storefront="cn-kz", lines=[{"product": product.pk, "quantity": 1}],
                       ship_to=dict(KZ_ADDRESS))


def _written(order: Order) -> dict:
    """What paying ``order`` wrote, without ids and times."""
    order.refresh_from_db()
    hold = EscrowHold.objects.get(reference=order.reference)
    txn = Transaction.objects.get(pk=hold.hold_txn_id)

    def events(model, pk):
        return [(e.machine, e.from_state, e.to_state, e.actor_id, e.actor_label, e.reason, e.place, sorted(e.payload))
                for e in TransitionEvent.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id=pk)
                .order_by("id")]

    return {
        "order": (order.status, order.paid_at is not None, order.expires_at),
        "order_events": events(Order, order.pk),
        "paid_event_amount": TransitionEvent.objects.filter(object_id=order.pk, to_state="paid").get().payload["amount"],
        "hold": (hold.status, hold.payer_kind, hold.payer_id, hold.currency, hold.amount_minor, hold.refunded_minor,
                 hold.released_minor, hold.commission_minor, hold.settled_minor, hold.payee_kind, hold.payee_id),
        "hold_events": events(EscrowHold, hold.pk),
        "txn": (txn.kind, txn.reference == order.reference, txn.idempotency_key == f"escrow_hold:{order.reference}",
                txn.actor_id, txn.actor_label, txn.memo),
        "entries": sorted((e.account.owner_kind, e.account.kind, e.currency, e.amount_minor)
                          for e in Entry.objects.filter(txn=txn).select_related("account")),
        "reservation": Reservation.objects.get(reference=order.reference).expires_at,
    }


def test_the_one_call_writes_what_the_general_path_writes(phones, buyer_kz, escrow_shards, monkeypatch):
    ContentType.objects.get_for_models(Order, EscrowHold)  # the process's cache, warm as in a running server
    fast = _place(buyer_kz, phones[0])
    slow = _place(buyer_kz, phones[1])
    with CaptureQueriesContext(connection) as one:
        order_pay(order=fast, actor=buyer_kz)
    assert [q["sql"].split("(")[0] for q in one.captured_queries] == ["SELECT outcome, txn_id FROM orders_pay"]
    monkeypatch.setattr(checkout, "_pay_in_one_call", lambda order, actor: False)
    with CaptureQueriesContext(connection) as general:
        order_pay(order=slow, actor=buyer_kz)
    assert len(general.captured_queries) > 1

    assert fast.status == "paid" and fast.expires_at is None
    written = _written(fast)
    assert written == _written(slow)
    assert written["order"] == ("paid", True, None) and written["reservation"] is None
    assert [e[1:3] for e in written["order_events"]] == [("", "placed"), ("placed", "paid")]
    assert written["order_events"][1][-1] == ["amount", "escrow_txn"]
    assert written["hold_events"] == [("escrow", "", "held", buyer_kz.pk, "buyer_kz", "", "", ["amount", "txn"])]
    assert written["entries"] == [("platform", "escrow", "KZT", fast.total_minor), ("user", "wallet", "KZT", -fast.total_minor)]


def test_a_short_wallet_is_refused_and_nothing_is_written(phones, make_user, reference):
    poor = make_user("poor_kz", "buyer")
    fund(poor, "1.00", "KZT")
    order = _place(poor, phones[0])
    transactions = Transaction.objects.count()

    with pytest.raises(DomainError) as refused:
        order_pay(order=order, actor=poor)

    assert refused.value.code == "insufficient_funds"
    order.refresh_from_db()
    assert order.status == "placed" and order.expires_at is not None
    assert Transaction.objects.count() == transactions and not EscrowHold.objects.exists()
    assert Reservation.objects.get(reference=order.reference).expires_at is not None
    assert Account.objects.get(owner_id=poor.pk, kind="wallet").balance_minor == 100


def test_an_order_that_moved_since_it_was_read_is_answered_by_the_general_path(phones, buyer_kz):
    order = _place(buyer_kz, phones[0])
    stale = Order.objects.get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(DomainError) as refused:
        order_pay(order=stale, actor=buyer_kz)

    assert refused.value.code == "illegal_transition"
    assert not EscrowHold.objects.exists()
    assert Order.objects.get(pk=order.pk).status == "placed"


def test_the_first_payment_into_a_new_escrow_shard_opens_it(phones, buyer_kz):
    """No escrow shard is open yet: the one call refuses ('missing') having written nothing, and the
    general path opens the shard's account and pays."""
    order = _place(buyer_kz, phones[0])
    order_pay(order=order, actor=buyer_kz)

    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Account.objects.filter(owner_kind="platform", kind="escrow").count() == 1
    assert EscrowHold.objects.get(reference=order.reference).amount_minor == order.total_minor


def test_paying_twice_books_once(phones, buyer_kz):
    order = _place(buyer_kz, phones[0])
    stale = Order.objects.get(pk=order.pk)
    order_pay(order=order, actor=buyer_kz)

    with pytest.raises(DomainError) as refused:
        order_pay(order=stale, actor=buyer_kz)

    assert refused.value.code == "illegal_transition"
    assert EscrowHold.objects.filter(reference=order.reference).count() == 1
    assert Transaction.objects.filter(reference=order.reference).count() == 1


def test_only_the_buyer_pays(phones, buyer_kz, make_user):
    order = _place(buyer_kz, phones[0])
    other = make_user("other_kz", "buyer")

    with pytest.raises(DomainError) as refused:
        order_pay(order=order, actor=get_user_model().objects.get(pk=other.pk))

    assert refused.value.code == "permission_denied"
    assert not EscrowHold.objects.exists()
