"""Delivery in batches: a batch of parcels is delivered in one transaction whose statements do not
grow with the batch (escrow released in one ledger transaction per seller, the orders moved
set-based), and nothing is booked or moved twice."""

from unittest import mock

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from core.models import TransitionEvent
from orders import tracking
from orders.models import Order
from payments.interface import Owner
from payments.models import Account, Entry, EscrowHold, Transaction
from payments.services import PLATFORM_SHARDS, platform, posting, wallet
from payments.services.posting import _accounts

from .conftest import book, make_product
from .test_tracking import shipped_order

# Statements of one delivery batch: lock the orders, lock the holds (with their escrow shards), two
# bookings per seller (release, commission), three to move the holds, three to move the orders.
# The ledger's booking statement is counted since it goes through a Django cursor wrapper (issue 14):
# 12 for one seller, where 10 were logged before.
PER_BATCH = 10
PER_SELLER = 2


def in_transit(buyer, product, n):
    orders = [shipped_order(buyer, product) for _ in range(n)]
    ids = [o.pk for o in orders]
    assert sorted(tracking.parcels_step(order_ids=ids, from_status="shipped")["in_transit"]) == sorted(ids)
    return ids


def prepare_accounts(*companies):
    """Every shard of the platform accounts a delivery books into, and the sellers' wallets, exist
    already: the first booking into a new account creates it (a few statements more, once)."""
    from payments.models import AccountKind

    keys = {platform(kind, "CNY", shard) for kind in (AccountKind.ESCROW, AccountKind.COMMISSION)
            for shard in range(PLATFORM_SHARDS)}
    keys |= {wallet(Owner.company(c.pk), "CNY") for c in companies}
    _accounts(keys, creatable=keys)


def deliver(ids):
    """Deliver ``ids``; return those moved and the statements sent (the ledger's bookings go
    through their own prepared psycopg cursor, counted apart)."""
    bookings = []
    book_pg = posting._book_pg

    def counted(*args, **kwargs):
        bookings.append(1)
        return book_pg(*args, **kwargs)

    with CaptureQueriesContext(connection) as ctx, mock.patch.object(posting, "_book_pg", counted):
        moved = tracking.order_delivered(order_ids=ids, from_status="in_transit",
                                         places=dict.fromkeys(ids, "Urumqi"))
    return moved, len(ctx.captured_queries) + len(bookings)


@pytest.mark.django_db
def test_a_delivery_batch_takes_the_same_statements_whatever_its_size(buyer_cn, kz_seller, honey, make_seller):
    other = make_seller("seller_kz2", "KZ", name="Bal Dala LLP", storefronts=["kz"])
    honey2 = make_product(other.company, storefront="kz", price="70.00", title="Steppe honey", hs_code="040900",
                          category="honey", weight=500)
    book("LHW", honey2, 20)
    prepare_accounts(kz_seller.company, other.company)
    ids = in_transit(buyer_cn, honey, 8)
    ids2 = in_transit(buyer_cn, honey2, 2)

    small, small_statements = deliver(ids[:2])
    large, large_statements = deliver(ids[2:8])
    two_sellers, two_statements = deliver([ids[0], *ids2])  # ids[0] is delivered already: skipped

    assert sorted(small) == ids[:2] and sorted(large) == ids[2:8] and sorted(two_sellers) == ids2
    assert small_statements == large_statements <= PER_BATCH + PER_SELLER
    assert two_statements <= PER_BATCH + 2 * PER_SELLER


@pytest.mark.django_db
def test_a_delivery_batch_releases_each_order_escrow_once_and_records_every_move(buyer_cn, kz_seller, honey):
    ids = in_transit(buyer_cn, honey, 3)

    assert sorted(tracking.order_delivered(order_ids=ids, from_status="in_transit", place="Urumqi")) == ids
    again = tracking.order_delivered(order_ids=ids, from_status="in_transit", place="Urumqi")  # a task delivered twice

    assert again == []
    orders = list(Order.objects.filter(pk__in=ids))
    assert {o.status for o in orders} == {"delivered"} and all(o.closed_at for o in orders)
    holds = EscrowHold.objects.filter(reference__in=[o.reference for o in orders])
    for hold in holds:
        assert hold.status == "released" and hold.open_minor == 0
        assert hold.released_minor + hold.settled_minor + hold.refunded_minor == hold.amount_minor
    released = sum(h.released_minor for h in holds)
    commission = sum(h.commission_minor for h in holds)
    seller = Owner.company(kz_seller.company.pk)
    wallet_row = Account.objects.get(owner_kind=seller.kind, owner_id=seller.id, kind="wallet", currency_id="CNY")
    assert wallet_row.balance_minor == released - commission
    assert Account.objects.filter(owner_kind="platform", kind="commission").aggregate(s=Sum("balance_minor"))["s"] == commission
    # One release and one commission transaction for the seller's batch, each balanced.
    batch = Transaction.objects.filter(kind__in=["escrow_release", "commission"], reference__startswith="batch:")
    assert batch.count() == 2
    for txn in batch:
        assert Entry.objects.filter(txn=txn).aggregate(s=Sum("amount_minor"))["s"] == 0
    # An event for every move, with its time, actor, place and what the seller was paid.
    for o in orders:
        event = TransitionEvent.objects.get(machine="order", object_id=o.pk, to_state="delivered")
        assert (event.from_state, event.actor_label, event.place) == ("in_transit", "system", "Urumqi") and event.at
        assert event.payload["release_txn"] in {t.pk for t in batch}
        hold = holds.get(reference=o.reference)
        assert TransitionEvent.objects.filter(machine="escrow", object_id=hold.pk, to_state="released").count() == 1
        assert event.payload["commission"]["amount"] == f"{hold.commission_minor / 100:.2f}"
