"""Celery: tasks go out only after commit, a real worker moves the state, duplicates change nothing."""

import pytest
from django.db import transaction

from core.models import TransitionEvent
from tests.conftest import wait_for
from tests.testapp import services
from tests.testapp.models import Shipment
from tests.testapp.tasks import accept_shipment


def test_the_app_is_configured_for_at_least_once_delivery(settings):
    from config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.task_always_eager is False
    assert app.conf.broker_transport_options["visibility_timeout"] >= 3600
    assert app.conf.task_routes["payments.*"] == {"queue": "payments"}


@pytest.mark.django_db
def test_enqueue_waits_for_commit(buyer, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(accept_shipment, "apply_async", lambda **kw: sent.append(kw))
    shipment = Shipment.objects.create(owner=buyer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.shipment_submit(shipment=shipment, actor=buyer)
        assert sent == []
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_a_rolled_back_change_sends_nothing(buyer, django_capture_on_commit_callbacks):
    from django.db import connection

    shipment = Shipment.objects.create(owner=buyer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                services.shipment_submit(shipment=shipment, actor=buyer)
                # The change did ask for a task: it is the rollback that drops it.
                assert len(connection.run_on_commit) == 1
                raise RuntimeError("abort")
        except RuntimeError:
            pass
    assert callbacks == []


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_moves_the_shipment_and_a_duplicate_changes_nothing(celery_worker, make_user):
    buyer = make_user("celery_buyer", "buyer")
    shipment = Shipment.objects.create(owner=buyer)
    services.shipment_submit(shipment=shipment, actor=buyer)  # autocommit: sent at once
    wait_for(lambda: Shipment.objects.get(pk=shipment.pk).status == "accepted")
    # the broker redelivers after a crash (acks_late): the task runs again and changes nothing
    accept_shipment.run(shipment.pk)
    accept_shipment.run(shipment.pk)
    assert TransitionEvent.objects.filter(object_id=shipment.pk).count() == 2  # draft→submitted→accepted
    assert TransitionEvent.objects.get(object_id=shipment.pk, to_state="accepted").actor_label == "system"


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_message_with_a_countdown_runs_in_a_later_worker(celery_config, make_user):
    """Each test starts its own worker in a thread: a later one must keep the timer of countdowns."""
    from tests.conftest import running_worker

    buyer = make_user("countdown_buyer", "buyer")
    first, second = (Shipment.objects.create(owner=buyer) for _ in range(2))
    with running_worker(celery_config["broker_url"]):
        Shipment.objects.filter(pk=first.pk).update(status=Shipment.Status.SUBMITTED)
        accept_shipment.apply_async(args=[first.pk], countdown=0.2)
        wait_for(lambda: Shipment.objects.get(pk=first.pk).status == "accepted")
    with running_worker(celery_config["broker_url"]):
        Shipment.objects.filter(pk=second.pk).update(status=Shipment.Status.SUBMITTED)
        accept_shipment.apply_async(args=[second.pk], countdown=0.2)
        assert wait_for(lambda: Shipment.objects.get(pk=second.pk).status == "accepted", timeout=10)
