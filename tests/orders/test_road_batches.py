"""The parcel road's batch steps (issue 14): a batch of declarations filed, of customs' decisions
and of the warehouse's steps (the fulfilment simulator's pick, pack and ship, and the order
following them) each takes the same statements whatever its size, records an event per move, and
a copy of the batch moves nothing more."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import TransitionEvent
from customs.models import Declaration, DeclarationDocument
from orders import services as orders
from orders.models import Order
from warehouses import services as wh
from warehouses.models import Fulfilment, Movement, Reservation

from ..warehouses.conftest import assert_ledger_consistent
from .conftest import book
from .test_tracking import paid_honey_order

pytestmark = pytest.mark.django_db


# The read of the buyers' yearly allowances used by their other parcels (customs.services.quotes):
# once per batch (allowances_read), once per parcel when one is assessed alone.
ALLOWANCE_READ = 'FROM "customs_allowanceuse"'


def statements(func, *args, **kwargs):
    """``func``'s result and the statements it sent, the buyer's allowance reads apart."""
    with CaptureQueriesContext(connection) as ctx:
        result = func(*args, **kwargs)
    allowance = sum(1 for q in ctx.captured_queries if ALLOWANCE_READ in q["sql"] and q["sql"].startswith("SELECT"))
    return result, len(ctx.captured_queries) - allowance, allowance


def paid(buyer, honey, n):
    return [paid_honey_order(buyer, honey) for _ in range(n)]


def declared(buyer, honey, n):
    ids = [o.pk for o in paid(buyer, honey, n)]
    assert orders.order_declare_batch(order_ids=ids) == ids
    return list(Order.objects.filter(pk__in=ids).order_by("pk"))


def test_a_batch_of_declarations_is_filed_in_the_same_statements_whatever_its_size(buyer_cn, honey):
    book("LHW", honey, 20)
    orders.order_declare_batch(order_ids=[paid_honey_order(buyer_cn, honey).pk])  # the rule tables in the memo
    small = [o.pk for o in paid(buyer_cn, honey, 2)]
    large = [o.pk for o in paid(buyer_cn, honey, 6)]

    filed_small, n_small, allowance_small = statements(orders.order_declare_batch, order_ids=small)
    filed_large, n_large, allowance_large = statements(orders.order_declare_batch, order_ids=large)

    assert filed_small == small and filed_large == large
    assert n_small == n_large <= 20  # lock, lines, stamp, existing, 3 inserts, submit (3), move (3), savepoints
    assert (allowance_small, allowance_large) == (1, 1)  # the buyers' allowances, once per batch (CN regime)
    declarations = Declaration.objects.filter(reference__in=[f"order:{pk}" for pk in small + large])
    assert declarations.count() == 8 and {d.status for d in declarations} == {"submitted"}
    assert DeclarationDocument.objects.filter(declaration__in=declarations, kind="invoice").count() == 8
    assert all(d.lines.count() == 1 and d.total_minor >= 0 and d.payer_kind == "escrow" for d in declarations)
    for pk in large:
        event = TransitionEvent.objects.get(machine="order", object_id=pk, to_state="at_customs")
        assert (event.from_state, event.actor_label) == ("paid", "system") and event.payload["declaration"]
    # Filed again (a task delivered twice): customs answers with the same declarations, nothing new.
    assert orders.order_declare_batch(order_ids=large) == []
    assert Declaration.objects.count() == 9 and DeclarationDocument.objects.count() == 9


def test_customs_decisions_on_a_batch_take_the_same_statements_whatever_its_size(buyer_cn, honey, settings):
    settings.WAREHOUSES_FULFILMENT_SIMULATOR = True
    book("LHW", honey, 20)
    first, small, large = declared(buyer_cn, honey, 1), declared(buyer_cn, honey, 2), declared(buyer_cn, honey, 6)
    rejected = large.pop()
    orders.orders_customs_changed(changes=[(first[0].reference, "released")])  # the released stock level is created once

    moved_small, n_small, _ = statements(orders.orders_customs_changed,
                                         changes=[(o.reference, "released") for o in small] + [(small[0].reference, "green")])
    moved_large, n_large, _ = statements(orders.orders_customs_changed, changes=[(o.reference, "released") for o in large])

    assert moved_small == [o.pk for o in small] and moved_large == [o.pk for o in large]
    assert n_small == n_large
    # Cleared from bond: the units left bond, the fulfilment is requested; an event per move.
    for order in small + large:
        assert Order.objects.get(pk=order.pk).status == "cleared"
        assert Fulfilment.objects.get(reference=order.reference).status == "requested"
        assert Movement.objects.filter(reference=order.reference, kind="release_from_bond").count() == 2
        event = TransitionEvent.objects.get(machine="order", object_id=order.pk, to_state="cleared")
        assert event.actor_label == "system" and event.payload["declaration"]
    assert orders.orders_customs_changed(changes=[(o.reference, "released") for o in large]) == []  # twice: nothing
    assert orders.orders_customs_changed(changes=[(rejected.reference, "rejected")]) == [rejected.pk]
    assert Order.objects.get(pk=rejected.pk).status == "customs_rejected"
    assert_ledger_consistent()


def test_the_fulfilment_simulator_moves_a_batch_in_the_same_statements_whatever_its_size(buyer_cn, honey, settings):
    settings.WAREHOUSES_FULFILMENT_SIMULATOR = True
    book("LHW", honey, 20)
    first, small, large = declared(buyer_cn, honey, 1), declared(buyer_cn, honey, 2), declared(buyer_cn, honey, 6)
    orders.orders_customs_changed(changes=[(o.reference, "released") for o in first + small + large])
    ids = {key: list(Fulfilment.objects.filter(reference__in=[o.reference for o in group]).order_by("pk")
                     .values_list("pk", flat=True)) for key, group in (("first", first), ("small", small), ("large", large))}

    counts = {}
    for step in ("picking", "packed", "shipped"):
        for key in ("first", "small", "large"):  # the first warms the caches (content types, the shipped level)
            moved, counts[(step, key)], _ = statements(wh.fulfilments_simulate, fulfilment_ids=ids[key])
            assert moved == {step: ids[key]}
        assert counts[(step, "small")] == counts[(step, "large")], step
        # The order follows the warehouse, one batch callback per step.
        def numbers(order, step=step):
            return [f"KRV{order.pk}"] if step == "shipped" else []

        for group in (first, small, large):
            moved, counts[(step, "order", len(group))], _ = statements(
                orders.orders_fulfilment_changed, events=[(o.reference, "LHW", step, numbers(o)) for o in group])
            assert moved == [o.pk for o in group]
        assert counts[(step, "order", len(small))] == counts[(step, "order", len(large))], step

    assert wh.fulfilments_simulate(fulfilment_ids=ids["large"]) == {}  # a copy: nothing more
    for order in small + large:
        assert Order.objects.get(pk=order.pk).status == "shipped"
        assert Order.objects.get(pk=order.pk).tracking_numbers == [f"KRV{order.pk}"]
        assert Reservation.objects.get(reference=order.reference).status == "shipped"
        assert Movement.objects.filter(reference=order.reference, kind="ship").count() == 1
        fulfilment = Fulfilment.objects.get(reference=order.reference)
        assert fulfilment.parcels.exclude(tracking_number="").count() == 1
        assert [e.to_state for e in TransitionEvent.objects.filter(machine="fulfilment", object_id=fulfilment.pk)
                .order_by("at", "id")] == ["picking", "packed", "shipped"]
    assert_ledger_consistent()


def test_an_order_behind_its_warehouse_records_the_steps_it_missed_in_the_batch(buyer_cn, honey):
    """The callbacks of two steps may run side by side: an order still ``cleared`` told ``packed``
    takes ``picking`` on the way, in the same batch as one told ``picking``; a step reported again
    moves nothing."""
    book("LHW", honey, 20)
    behind, on_time = declared(buyer_cn, honey, 2)
    orders.orders_customs_changed(changes=[(behind.reference, "released"), (on_time.reference, "released")])

    moved = orders.orders_fulfilment_changed(events=[(behind.reference, "LHW", "packed", []),
                                                     (on_time.reference, "LHW", "picking", [])])

    assert moved == [behind.pk, on_time.pk]
    assert Order.objects.get(pk=behind.pk).status == "packed" and Order.objects.get(pk=on_time.pk).status == "picking"
    path = [(e.from_state, e.to_state, e.place, e.actor_label) for e in
            TransitionEvent.objects.filter(machine="order", object_id=behind.pk).order_by("at", "id")][-2:]
    assert path == [("cleared", "picking", "LHW", "system"), ("picking", "packed", "LHW", "system")]
    assert orders.orders_fulfilment_changed(events=[(behind.reference, "LHW", "picking", [])]) == []
    assert TransitionEvent.objects.filter(machine="order", object_id=behind.pk, to_state="picking").count() == 1
