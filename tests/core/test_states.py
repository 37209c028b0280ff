"""The state machine: one declaration, one transition path, every move an event."""

import threading

import pytest
from django.db import connection

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.models import TransitionEvent
from core.states import StateMachine, history, move, transition, transition_batch
from tests.testapp.models import Shipment


def test_a_move_to_an_unknown_state_is_refused_at_declaration():
    with pytest.raises(ValueError, match="unknown states"):
        StateMachine("bad", Shipment.Status, [move("draft", "flying", "buyer")])


def test_a_move_declared_twice_is_refused():
    with pytest.raises(ValueError, match="declared twice"):
        StateMachine("bad", Shipment.Status, [move("draft", "submitted", "buyer"), move("draft", "submitted", "staff")])


def test_targets_depend_on_the_actor(make_user):
    buyer = make_user("b", "buyer")
    assert set(Shipment.machine.targets("submitted", buyer)) == {"cancelled"}
    assert set(Shipment.machine.targets("submitted", SYSTEM_ACTOR)) == {"accepted"}
    assert set(Shipment.machine.targets("submitted")) == {"accepted", "cancelled"}


@pytest.mark.django_db
def test_transition_changes_status_and_records_the_event(buyer):
    shipment = Shipment.objects.create(owner=buyer)
    event = transition(shipment, "submitted", actor=buyer, reason="ready", payload={"n": 1}, place="TAS")
    shipment.refresh_from_db()
    assert shipment.status == "submitted"
    assert (event.machine, event.from_state, event.to_state, event.actor, event.actor_label) == (
        "shipment", "draft", "submitted", buyer, buyer.username)
    assert event.reason == "ready" and event.payload == {"n": 1} and event.place == "TAS" and event.at


@pytest.mark.django_db
def test_illegal_move_raises_and_writes_nothing(buyer):
    shipment = Shipment.objects.create(owner=buyer)
    with pytest.raises(DomainError) as err:
        transition(shipment, "done", actor=SYSTEM_ACTOR)
    assert err.value.code == "illegal_transition" and err.value.status == 409
    shipment.refresh_from_db()
    assert shipment.status == "draft"
    assert not TransitionEvent.objects.exists()


@pytest.mark.django_db
def test_a_role_that_may_not_fire_is_refused(buyer):
    shipment = Shipment.objects.create(owner=buyer, status="submitted")
    with pytest.raises(DomainError) as err:
        transition(shipment, "accepted", actor=buyer)
    assert err.value.code == "transition_not_permitted"


@pytest.mark.django_db
def test_system_actor_is_recorded_as_system(buyer):
    shipment = Shipment.objects.create(owner=buyer, status="submitted")
    event = transition(shipment, "accepted", actor=SYSTEM_ACTOR)
    assert event.actor is None and event.actor_label == "system"


@pytest.mark.django_db
def test_history_is_in_order(buyer):
    shipment = Shipment.objects.create(owner=buyer)
    transition(shipment, "submitted", actor=buyer)
    transition(shipment, "accepted", actor=SYSTEM_ACTOR)
    transition(shipment, "done", actor=SYSTEM_ACTOR)
    assert [(e.from_state, e.to_state) for e in history(shipment)] == [
        ("draft", "submitted"), ("submitted", "accepted"), ("accepted", "done")]


@pytest.mark.django_db
def test_batch_moves_only_rows_still_in_the_source_state(buyer):
    rows = Shipment.objects.bulk_create([Shipment(owner=buyer, status="submitted") for _ in range(5)])
    Shipment.objects.filter(pk=rows[0].pk).update(status="cancelled")
    moved = transition_batch(Shipment, [r.pk for r in rows], "submitted", "accepted", actor=SYSTEM_ACTOR)
    assert moved == sorted(r.pk for r in rows[1:])
    # a retried batch changes nothing more
    assert transition_batch(Shipment, [r.pk for r in rows], "submitted", "accepted", actor=SYSTEM_ACTOR) == []
    assert TransitionEvent.objects.filter(to_state="accepted").count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_from_the_same_state_exactly_one_wins(make_user):
    buyer = make_user("racer", "buyer")
    staff = make_user("boss", "staff")
    for _ in range(5):  # a few rounds: a race that passes once by luck must pass every time
        shipment = Shipment.objects.create(owner=buyer, status="submitted")
        barrier = threading.Barrier(2)
        outcomes = []

        def fire(target, actor, shipment_id=shipment.pk, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                transition(Shipment.objects.get(pk=shipment_id), target, actor=actor)
                outcomes.append(target)
            except DomainError as exc:
                outcomes.append(exc.code)
            finally:
                connection.close()

        threads = [threading.Thread(target=fire, args=("accepted", staff)),
                   threading.Thread(target=fire, args=("cancelled", buyer))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        shipment.refresh_from_db()
        assert sorted(outcomes, key=str) in (["accepted", "illegal_transition"], ["cancelled", "illegal_transition"])
        assert shipment.status in outcomes
        assert TransitionEvent.objects.filter(object_id=shipment.pk).count() == 1
