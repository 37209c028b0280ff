"""Celery adapters: take ids, call one service, safe to run twice."""

from celery import shared_task

from core.access import SYSTEM_ACTOR


@shared_task(name="payments.process_payout")
def process_payout(payout_id: int) -> str:
    from . import services

    return services.payout_process(payout_id=payout_id, actor=SYSTEM_ACTOR).status


@shared_task(name="payments.refresh_fx_rates")
def refresh_fx_rates() -> int:
    from . import services

    return services.fx_rates_load(actor=SYSTEM_ACTOR)


@shared_task(name="payments.sweep_payouts")
def sweep_payouts() -> int:
    """Re-send payouts a lost task left behind (requested or processing for over 5 minutes)."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import Payout

    stuck = Payout.objects.filter(
        status__in=[Payout.Status.REQUESTED, Payout.Status.PROCESSING],
        updated_at__lt=timezone.now() - timedelta(minutes=5),
    ).values_list("pk", flat=True)[:500]
    for pk in stuck:
        process_payout.delay(pk)
    return len(stuck)
