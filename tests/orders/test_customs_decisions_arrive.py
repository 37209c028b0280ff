"""Customs' decisions that must reach the order whatever the broker loses. The refusals decided in
one transaction send one return task for all of them (``orders.return_rejected_batch``), each order
returned in its own transaction (stock back, the buyer refunded in full); the beat sweep returns the
refused orders whose task was lost; and another applies a decision whose callback was lost to the
orders still waiting at customs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import TransitionEvent
from orders import services as orders
from orders import tasks
from orders.models import Order
from payments.models import EscrowHold

from .conftest import book, sends_of
from .test_road_batches import declared

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """The messages of ``orders.return_rejected_batch`` sent to the broker (their ids), not delivered."""
    return sends_of(monkeypatch, tasks.return_rejected_batch)


def statuses(ids) -> dict[int, str]:
    return dict(Order.objects.filter(pk__in=ids).values_list("pk", "status"))


def test_refusals_decided_together_are_returned_by_one_task(buyer_cn, honey, sent, django_capture_on_commit_callbacks):
    book("LHW", honey, 10)
    refused, released = declared(buyer_cn, honey, 3), declared(buyer_cn, honey, 1)
    changes = [(o.reference, "rejected") for o in refused] + [(released[0].reference, "released")]
    with django_capture_on_commit_callbacks(execute=True):
        orders.orders_customs_changed(changes=changes)

    ids = sorted(o.pk for o in refused)
    assert sent == [ids]  # one message for the three refusals, none for the release
    assert set(statuses(ids).values()) == {"customs_rejected"}

    assert tasks.return_rejected_batch.run(sent[0]) == 3
    assert set(statuses(ids).values()) == {"returned"}
    assert set(EscrowHold.objects.filter(reference__in=[o.reference for o in refused])
               .values_list("status", flat=True)) == {"refunded"}
    assert statuses([released[0].pk]) == {released[0].pk: "cleared"}
    assert tasks.return_rejected_batch.run(sent[0]) == 0  # a copy finds them returned


def test_the_sweep_returns_a_refusal_whose_task_was_lost(buyer_cn, honey, sent, django_capture_on_commit_callbacks):
    book("LHW", honey, 10)
    lost, fresh = declared(buyer_cn, honey, 1)[0], declared(buyer_cn, honey, 1)[0]
    with django_capture_on_commit_callbacks(execute=True):  # the messages are lost: never run
        orders.orders_customs_changed(changes=[(lost.reference, "rejected"), (fresh.reference, "rejected")])
    TransitionEvent.objects.filter(machine="order", object_id=lost.pk, to_state="customs_rejected").update(
        at=timezone.now() - timedelta(seconds=tasks.REJECTED_SWEEP_AFTER + 1))

    assert tasks.rejected_sweep.run() == 1  # the one refused long ago; the fresh one is left to its task
    assert statuses([lost.pk, fresh.pk]) == {lost.pk: "returned", fresh.pk: "customs_rejected"}
    assert tasks.rejected_sweep.run() == 0


def test_the_sweep_applies_a_customs_decision_whose_callback_was_lost(buyer_cn, honey, sent,
                                                                   django_capture_on_commit_callbacks):
    """Customs released one parcel and refused another, their callbacks never arrived: the orders
    still say at_customs. Once they have waited long enough, the sweep moves them as the callbacks
    would have; an order whose declaration is still under way stays at customs."""
    from customs.models import Declaration

    book("LHW", honey, 10)
    released, refused, pending = (declared(buyer_cn, honey, 1)[0] for _ in range(3))
    Declaration.objects.filter(reference=released.reference).update(status="released")
    Declaration.objects.filter(reference=refused.reference).update(status="rejected", rejection_reason="wrong HS code")
    ids = [released.pk, refused.pk, pending.pk]
    assert tasks.customs_sweep.run() == 0  # not waited long enough: the callbacks may still come
    TransitionEvent.objects.filter(machine="order", object_id__in=ids, to_state="at_customs").update(
        at=timezone.now() - timedelta(seconds=tasks.CUSTOMS_SWEEP_AFTER + 1))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.customs_sweep.run() == 2
    assert statuses(ids) == {released.pk: "cleared", refused.pk: "customs_rejected", pending.pk: "at_customs"}
    assert sent == [[refused.pk]]  # the refused one's return follows
    assert tasks.customs_sweep.run() == 0


def test_the_customs_sweep_reads_past_orders_still_under_way(buyer_cn, honey):
    """Many orders wait at customs for hours: a decided one behind a full page of undecided ones is
    still found."""
    from customs.models import Declaration

    book("LHW", honey, 10)
    under_way = [declared(buyer_cn, honey, 1)[0] for _ in range(3)]
    decided = declared(buyer_cn, honey, 1)[0]
    Declaration.objects.filter(reference=decided.reference).update(status="released")
    TransitionEvent.objects.filter(machine="order", to_state="at_customs").update(at=timezone.now() - timedelta(hours=1))

    assert orders.orders_customs_reconcile(waited=60, page=2) == [decided.pk]
    assert set(statuses([o.pk for o in under_way]).values()) == {"at_customs"}


def test_the_sweep_has_orders_follow_a_warehouse_whose_callbacks_were_lost(buyer_cn, honey):
    """Three cleared orders; the warehouse picked and packed one, shipped another and left the third
    as requested, and none of its callbacks arrived. Once they have waited long enough, the first
    order is packed (picking recorded on the way), the second shipped with its tracking number, and
    the third, whose warehouse has not started, stays cleared."""
    from core.access import SYSTEM_ACTOR
    from warehouses import services as wh
    from warehouses.models import Fulfilment

    from .test_tracking import cleared_order, ship_through_warehouse

    book("LHW", honey, 10)
    packed, shipped, waiting = (cleared_order(buyer_cn, honey) for _ in range(3))
    fulfilment = Fulfilment.objects.get(reference=packed.reference)
    wh.fulfilment_pick(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    wh.parcel_pack(fulfilment=fulfilment, parcels=[{"weight_g": 600, "length_mm": 200, "width_mm": 120,
                                                    "height_mm": 80}], actor=SYSTEM_ACTOR)
    ship_through_warehouse(shipped)  # outside a worker: the callbacks sent at commit go nowhere
    ids = [packed.pk, shipped.pk, waiting.pk]
    assert set(statuses(ids).values()) == {"cleared"}
    assert tasks.warehouse_sweep.run() == 0  # not waited long enough: the callbacks may still come
    TransitionEvent.objects.filter(machine="order", object_id__in=ids, to_state="cleared").update(
        at=timezone.now() - timedelta(hours=1))

    assert tasks.warehouse_sweep.run() == 2
    assert statuses(ids) == {packed.pk: "packed", shipped.pk: "shipped", waiting.pk: "cleared"}
    assert list(TransitionEvent.objects.filter(machine="order", object_id=packed.pk).order_by("at", "pk")
                .values_list("to_state", flat=True))[-2:] == ["picking", "packed"]
    assert Order.objects.get(pk=shipped.pk).tracking_numbers and tasks.warehouse_sweep.run() == 0
