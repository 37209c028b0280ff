import time

from core.states import transition
from core.tasks import enqueue

from .models import Shipment


def shipment_create(*, owner, note: str = "") -> Shipment:
    if note == "slow":  # lets the tests hold a request open to probe idempotency-in-flight
        time.sleep(1.5)
    return Shipment.objects.create(owner=owner, note=note)


def shipment_submit(*, shipment: Shipment, actor) -> Shipment:
    from .tasks import accept_shipment

    transition(shipment, Shipment.Status.SUBMITTED, actor=actor)
    enqueue(accept_shipment, shipment.pk)
    return shipment
