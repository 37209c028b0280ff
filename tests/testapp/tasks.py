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
