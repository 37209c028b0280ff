"""Statements per checkout (issue 14): placing and paying an order take a fixed number of statements
whatever its number of lines, so that per-line or per-rule round trips cannot creep back.

Counted as Django logs them on PostgreSQL, outside any transaction of the test's (``transaction=True``),
as a request without an idempotency key runs them: each write is one statement in autocommit, with
no BEGIN or COMMIT of its own. (Inside a caller's transaction, an idempotent request's, placing adds
a savepoint pair so that a failed statement leaves that transaction usable.)

place (2): the storefront with its markets, warehouses, the next order id, the buyer's roles, the
customs rules' version (the rules are in the process's memo), the listings with their titles and
where the units would come from (the allocation preview, warehouses' query), for the landed cost;
then one statement writes the order, its lines and its first event (``core.sql.insert_with_event``)
and reserves every line where the preview said (``warehouses_stock_reserve``: it locks the levels,
then reserves), or fails and writes nothing: the stock levels' locks are held for that statement
only.

pay (1): one call of ``orders_pay`` (migration orders 0004):
under the order's row lock, the escrow hold (``payments_escrow_hold``: the ledger posting, the hold
and its event), the reservation kept (``warehouses_stock_keep``) and the order moved to paid with
its event. Before it was five statements and a transaction: the lock, the posting, the hold, the
reservation, the move.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.access import SYSTEM_ACTOR
from core.money import Money
from orders.models import Order
from orders.services import order_pay, order_place
from payments import services as pay_services
from payments.interface import Owner
from warehouses.models import StockLevel

from .conftest import KZ_ADDRESS

PLACE = 2
PAY = 1


def _checkout(buyer_id: int, products) -> tuple[CaptureQueriesContext, CaptureQueriesContext, Order]:
    buyer = get_user_model().objects.get(pk=buyer_id)  # a fresh user, as a request has: roles not cached
    lines = [{"product": p.pk, "quantity": 1} for p in products]
    with CaptureQueriesContext(connection) as place:
        order = order_place(buyer=buyer, storefront="cn-kz", lines=lines, ship_to=dict(KZ_ADDRESS))
    with CaptureQueriesContext(connection) as pay:
        order_pay(order=order, actor=buyer)
    return place, pay, order


def _sql(ctx: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"][:160] for q in ctx.captured_queries)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n_lines", [1, 3])
def test_place_and_pay_take_a_fixed_number_of_statements(phones, buyer_kz, escrow_shards, n_lines):
    _checkout(buyer_kz.pk, phones[:1])  # warms the process: content types, the rules' memo

    place, pay, order = _checkout(buyer_kz.pk, phones[:n_lines])

    order.refresh_from_db()
    assert order.status == "paid" and order.lines.count() == n_lines
    assert sum(lv.reserved for lv in StockLevel.objects.filter(sku_id__in=[p.sku_id for p in phones])) == 1 + n_lines
    assert len(place.captured_queries) == PLACE, _sql(place)
    assert len(pay.captured_queries) == PAY, _sql(pay)
    assert PLACE + PAY == 3  # was 63 (37 + 25 + the uncounted ledger posting)


@pytest.mark.django_db
def test_a_sold_out_line_is_refused_in_one_statement_without_a_transaction(phones, buyer_kz, escrow_shards):
    """Short stock is refused from the allocation preview: the buyer of a sold-out product costs the
    storefront statement, which brings the preview, takes no lock, writes nothing, and still hears
    which line is short and what is left."""
    from core.errors import DomainError

    _checkout(buyer_kz.pk, phones[:1])  # warm
    buyer = get_user_model().objects.get(pk=buyer_kz.pk)
    orders_before = Order.objects.count()
    lines = [{"product": phones[1].pk, "quantity": 1}, {"product": phones[2].pk, "quantity": 11}]
    with CaptureQueriesContext(connection) as place, pytest.raises(DomainError) as refused:
        order_place(buyer=buyer, storefront="cn-kz", lines=lines, ship_to=dict(KZ_ADDRESS))

    assert refused.value.code == "insufficient_stock"
    assert list(refused.value.fields) == ["lines.1"] and "10" in str(refused.value.fields["lines.1"][0])
    assert len(place.captured_queries) == 1, _sql(place)
    assert not any("FOR UPDATE" in q["sql"] or "SAVEPOINT" in q["sql"] for q in place.captured_queries)
    assert Order.objects.count() == orders_before
    assert sum(lv.reserved for lv in StockLevel.objects.filter(sku_id__in=[p.sku_id for p in phones[1:]])) == 0


@pytest.mark.django_db
def test_a_ledger_posting_is_one_statement(make_user, reference):
    alice, bob = make_user("alice_stmt", "buyer"), make_user("bob_stmt", "buyer")
    pay_services.top_up(owner=Owner.user(alice), amount=Money.of("100.00", "CNY"), provider="simulator",
                        provider_event_id="stmt-1", actor=SYSTEM_ACTOR)
    pay_services.top_up(owner=Owner.user(bob), amount=Money.of("1.00", "CNY"), provider="simulator",
                        provider_event_id="stmt-2", actor=SYSTEM_ACTOR)

    with CaptureQueriesContext(connection) as ctx:
        info = pay_services.wallet_transfer(source=Owner.user(alice), destination=Owner.user(bob),
                                            amount=Money.of("12.30", "CNY"), reference="stmt", idempotency_key="stmt-t1",
                                            actor=SYSTEM_ACTOR)

    assert info.booked
    assert len(ctx.captured_queries) == 1, _sql(ctx)
