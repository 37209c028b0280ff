"""Celery adapters of warehouses: each takes ids, loads, calls one service, and is safe to run twice."""

from celery import shared_task

from core.access import SYSTEM_ACTOR

from . import services
from .models import Consignment


@shared_task(name="warehouses.expire_reservations")
def expire_reservations() -> int:
    return services.reservations_expire()


@shared_task(name="warehouses.advance_consignment")
def advance_consignment(consignment_id: int, expected_status: str) -> str | None:
    """The transit simulator's step: the carrier reports the consignment one stage further."""
    consignment = Consignment.objects.filter(pk=consignment_id).first()
    if consignment is None or consignment.status != expected_status:
        return None  # a duplicate delivery, or someone moved it by hand meanwhile
    services.consignment_advance(consignment=consignment, expected=expected_status, actor=SYSTEM_ACTOR)
    return consignment.status


@shared_task(name="warehouses.declaration_changed")
def declaration_changed(declaration_id: int, reference: str, new_status: str) -> None:
    """Customs' callback on each status change of a declaration we asked for (args fixed by customs).

    ``new_status`` is not trusted: the service reads the declaration's current state, so a late or
    repeated callback changes nothing more."""
    services.consignment_customs_changed(reference=reference, declaration_id=declaration_id)
