"""No call to the outside world while a database row lock is held: the customs authority (submit,
poll) and the carrier (hand_over) are asked with no transaction open, on the whole road from
payment to delivery; a step lost between the authority's answer and its record is resumed and
records nothing twice."""

import pytest
from django.db import connection

from core.states import history
from customs import services as customs
from customs import tasks as customs_tasks
from customs.gateways.simulator import SimulatorGateway
from customs.models import Declaration
from customs.services import gateway_steps
from orders import services as orders
from orders.models import Order
from warehouses.gateways import carrier

from ..conftest import wait_for
from .conftest import CN_ADDRESS


def locks_held() -> int:
    """Row locks (and writes) of this connection's open transaction: a transaction id is taken by
    the first row it locks or writes, and held until it ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'transactionid'")
        return cursor.fetchone()[0]


@pytest.fixture
def outside_calls(monkeypatch):
    """Every call to the customs gateway and the carrier, with whether a transaction was open and
    how many locks it held (asked on the calling thread's own connection)."""
    calls = []

    def watched(name, call):
        def run(*args, **kwargs):
            calls.append((name, connection.in_atomic_block, locks_held()))
            return call(*args, **kwargs)
        return run

    for name in ("submit", "poll", "submit_batch", "poll_batch"):
        if hasattr(SimulatorGateway, name):
            monkeypatch.setattr(SimulatorGateway, name, watched(f"customs.{name}", getattr(SimulatorGateway, name)))
    monkeypatch.setattr(carrier, "hand_over", watched("carrier.hand_over", carrier.hand_over))
    return calls


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery
def test_the_road_calls_customs_and_the_carrier_with_no_transaction_open(celery_worker, settings, outside_calls,
                                                                        buyer_cn, honey):
    settings.WAREHOUSES_FULFILMENT_SIMULATOR = True
    settings.WAREHOUSES_FULFILMENT_DELAYS = {"requested": 0, "picking": 0, "packed": 0}
    order = orders.order_place(buyer=buyer_cn, storefront="kz", lines=[{"product": honey.pk, "quantity": 1}],
                               ship_to=dict(CN_ADDRESS))
    orders.order_pay(order=order, actor=buyer_cn)

    wait_for(lambda: Order.objects.filter(pk=order.pk, status="delivered").exists(), timeout=60)

    names = {name for name, _atomic, _locks in outside_calls}
    assert {"customs.submit_batch", "customs.poll_batch", "carrier.hand_over"} <= names
    assert [call for call in outside_calls if call[1] or call[2]] == []  # (name, in a transaction, locks held)


@pytest.mark.django_db(transaction=True)
def test_a_registration_lost_after_the_authority_answered_is_resumed_once(settings, monkeypatch, outside_calls,
                                                                         buyer_cn, honey):
    settings.MARKETPLACE_TRACKING_AUTOSTART = False
    order = orders.order_place(buyer=buyer_cn, storefront="kz", lines=[{"product": honey.pk, "quantity": 1}],
                               ship_to=dict(CN_ADDRESS))
    orders.order_pay(order=order, actor=buyer_cn)
    assert orders.order_declare(order_id=order.pk)
    declaration = Declaration.objects.get(reference=order.reference)
    assert declaration.status == "submitted"

    record = gateway_steps.transition_batch

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed after the authority answered")

    monkeypatch.setattr(gateway_steps, "transition_batch", crash)
    with pytest.raises(RuntimeError):
        customs.gateway_register_batch(declaration_ids=[declaration.pk])
    assert Declaration.objects.get(pk=declaration.pk).status == "submitted"  # the answer was not recorded

    # The sweep finds it waiting in its step and sends it again, in one batch task.
    monkeypatch.setattr(gateway_steps, "transition_batch", record)
    settings.CUSTOMS_SIMULATOR = {**settings.CUSTOMS_SIMULATOR, "stall_after": -60}
    resent = []
    monkeypatch.setattr(customs_tasks.gateway_submit_batch, "delay", lambda ids: resent.append(ids))
    monkeypatch.setattr(customs_tasks.gateway_poll_batch, "delay", lambda ids: None)
    assert customs_tasks.resume_stalled() >= 1
    assert [declaration.pk] in resent
    assert customs.gateway_register_batch(declaration_ids=[declaration.pk]) == [declaration.pk]
    assert customs.gateway_register_batch(declaration_ids=[declaration.pk]) == []  # delivered twice

    declaration.refresh_from_db()
    assert declaration.status == "registered" and declaration.registration_number
    assert [e.to_state for e in history(declaration)].count("registered") == 1
    assert [call for call in outside_calls if call[1] or call[2]] == []
