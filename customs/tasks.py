"""Celery adapters: each takes an id, calls one service, and is safe to run twice (the services
check the declaration's state under a row lock, so a duplicate finds nothing left to do)."""

import logging

from celery import shared_task
from django.db import OperationalError
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


def _run_batch(step, declaration_ids: list) -> int:
    try:
        return len(step(declaration_ids=[int(pk) for pk in declaration_ids]))
    except DomainError as exc:
        log.info("customs step %s on %s declarations: %s", step.__name__, len(declaration_ids), exc.message)
        return 0


@shared_task(name="customs.gateway_submit_batch", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def gateway_submit_batch(declaration_ids: list) -> int:
    """Register many submitted declarations with the authority (one exchange, no lock held)."""
    from .services import gateway_register_batch

    return _run_batch(gateway_register_batch, declaration_ids)


@shared_task(name="customs.gateway_poll_batch", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def gateway_poll_batch(declaration_ids: list) -> int:
    """Poll the authority for many declarations (channels, releases)."""
    from .services import gateway_poll_batch as poll

    return _run_batch(poll, declaration_ids)


@shared_task(name="customs.declarations_pay", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def declarations_pay(declaration_ids: list) -> int:
    """Book the duties of many assessed declarations (one ledger transaction per currency)."""
    from .services import declaration_pay_batch

    return _run_batch(declaration_pay_batch, declaration_ids)


@shared_task(name="customs.resume_stalled")
def resume_stalled() -> int:
    """Re-send the gateway step of declarations waiting longer than they should (a countdown lost
    with a worker, a broker restart). The steps are idempotent, so a duplicate is harmless."""
    from django.conf import settings

    from .models import Declaration

    cutoff = timezone.now() - timezone.timedelta(seconds=settings.CUSTOMS_SIMULATOR["stall_after"])
    stalled = list(Declaration.objects.filter(updated_at__lt=cutoff).filter(
        Q(status="submitted") | Q(status="registered") | Q(status="paid") | (Q(status="assessed") & ~Q(payer_kind=""))
    ).order_by("pk").values_list("pk", "status")[:500])
    # One task per step for all of them: a crash between the authority's answer and its record
    # (the declaration still in its step) is resumed here; the steps are idempotent.
    steps: dict = {}
    for pk, status in stalled:
        steps.setdefault({"submitted": gateway_submit_batch, "assessed": declarations_pay}.get(status, gateway_poll_batch), []).append(pk)
    for task, ids in steps.items():
        task.delay(ids)
    return len(stalled)
