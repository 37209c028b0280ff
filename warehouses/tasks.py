"""Celery adapters of warehouses: each takes ids, loads, calls one service, and is safe to run twice."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode

from . import services
from .models import Consignment

log = logging.getLogger(__name__)


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


@shared_task(name="warehouses.simulate_fulfilment", bind=True)
def simulate_fulfilment(self, fulfilment_id: int) -> str | None:
    """The fulfilment simulator's step (pick, pack or ship as the system); it schedules the next one.

    Safe twice: the step follows the fulfilment's current status. Units still in bond are tried again
    ``WAREHOUSES_FULFILMENT_BOND_RETRIES`` times, ``WAREHOUSES_FULFILMENT_BOND_RETRY_DELAY`` seconds
    apart, then left to the operator (the release from bond schedules the step anew). Any other
    refusal (a cancelled order, a released reservation) ends the chain."""
    try:
        return services.fulfilment_simulate(fulfilment_id=fulfilment_id)
    except DomainError as exc:
        if exc.code == ErrorCode.CUSTOMS_NOT_CLEARED and self.request.retries < settings.WAREHOUSES_FULFILMENT_BOND_RETRIES:
            raise self.retry(countdown=settings.WAREHOUSES_FULFILMENT_BOND_RETRY_DELAY, max_retries=None) from None
        log.info("fulfilment simulator: %s left to the operator (%s: %s)", fulfilment_id, exc.code, exc.message)
        return None


@shared_task(name="warehouses.simulate_fulfilments", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def simulate_fulfilments(fulfilment_ids: list, status: str | None = None) -> int:
    """The fulfilment simulator's step on many fulfilments still in ``status`` (the one it was
    scheduled after; None: each one step on from its current status), one set-based move per step,
    with the others in that status whose step is due; it schedules the next step for them in one
    task. Run twice, it moves nothing more. Returns how many moved."""
    moved = services.fulfilments_simulate(fulfilment_ids=[int(pk) for pk in fulfilment_ids], status=status, take_along=True)
    return sum(len(ids) for ids in moved.values())


@shared_task(name="warehouses.resume_fulfilments")
def resume_fulfilments() -> int:
    """Celery beat: re-send the simulator's step of fulfilments that stopped moving (simulator on only)."""
    return services.fulfilments_resume()
