"""Celery adapters: each takes an id, calls one service, and is safe to run twice (the services
check the declaration's state under a row lock, so a duplicate finds nothing left to do)."""

import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from core.errors import DomainError

log = logging.getLogger(__name__)


def _run(step, declaration_id: int) -> bool:
    try:
        return step(declaration_id=declaration_id)
    except DomainError as exc:
        # A concurrent copy moved it first (illegal transition), or the payer cannot pay yet:
        # the declaration keeps its state and the broker queue shows it.
        log.info("customs step %s on declaration %s: %s", step.__name__, declaration_id, exc.message)
        return False


@shared_task(name="customs.gateway_submit")
def gateway_submit(declaration_id: int) -> bool:
    from .services import gateway_register

    return _run(gateway_register, declaration_id)


@shared_task(name="customs.gateway_poll")
def gateway_poll(declaration_id: int) -> bool:
    from .services import gateway_poll as poll

    return _run(poll, declaration_id)


@shared_task(name="customs.declaration_pay")
def declaration_pay(declaration_id: int) -> bool:
    from .services import declaration_pay as pay

    return _run(pay, declaration_id)


@shared_task(name="customs.resume_stalled")
def resume_stalled() -> int:
    """Re-send the gateway step of declarations waiting longer than they should (a countdown lost
    with a worker, a broker restart). The steps are idempotent, so a duplicate is harmless."""
    from django.conf import settings

    from .models import Declaration

    cutoff = timezone.now() - timezone.timedelta(seconds=settings.CUSTOMS_SIMULATOR["stall_after"])
    stalled = Declaration.objects.filter(updated_at__lt=cutoff).filter(
        Q(status="submitted") | Q(status="registered") | Q(status="paid") | (Q(status="assessed") & ~Q(payer_kind=""))
    ).values_list("pk", "status")[:500]
    for pk, status in stalled:
        {"submitted": gateway_submit, "assessed": declaration_pay}.get(status, gateway_poll).delay(pk)
    return len(stalled)
