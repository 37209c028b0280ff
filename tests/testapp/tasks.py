from celery import shared_task

from core.access import SYSTEM_ACTOR
from core.states import transition

from .models import Shipment


@shared_task(name="testapp.accept_shipment")
def accept_shipment(shipment_id: int) -> None:
    shipment = Shipment.objects.filter(pk=shipment_id, status=Shipment.Status.SUBMITTED).first()
    if shipment is None:  # already moved: a duplicate delivery changes nothing
        return
    transition(shipment, Shipment.Status.ACCEPTED, actor=SYSTEM_ACTOR, reason="auto-accept")


@shared_task(name="testapp.accept_and_forward", bind=True)
def accept_and_forward(self, shipment_id: int, next_queue: str) -> None:
    """Accept on this node, then hand the shipment to the node of ``next_queue`` (after commit)."""
    from django.db import transaction

    from core.tasks import enqueue

    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().filter(pk=shipment_id, status=Shipment.Status.SUBMITTED).first()
        if shipment is None:
            return
        transition(shipment, Shipment.Status.ACCEPTED, actor=SYSTEM_ACTOR, payload={"node": self.request.hostname})
        enqueue(finish_shipment.s(shipment_id).set(queue=next_queue))


@shared_task(name="testapp.finish_shipment", bind=True)
def finish_shipment(self, shipment_id: int) -> None:
    shipment = Shipment.objects.filter(pk=shipment_id, status=Shipment.Status.ACCEPTED).first()
    if shipment is None:
        return
    transition(shipment, Shipment.Status.DONE, actor=SYSTEM_ACTOR, payload={"node": self.request.hostname})
