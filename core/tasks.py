"""Celery adapters of core, and the helper every app uses to enqueue after commit."""

from celery import shared_task
from django.db import transaction


def enqueue(task, *args, countdown: float | None = None, **kwargs) -> None:
    """Send ``task`` once the current transaction commits (at once outside a transaction).

    A task sent before commit could run before its rows exist, or for a change that is rolled back.
    """
    options = {"countdown": countdown} if countdown else {}
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs, **options))


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    from .idempotency import purge_expired

    return purge_expired()


@shared_task(name="core.ping")
def ping() -> str:
    """A no-op task: the baseline of the Celery benchmarks and the worker's health probe."""
    return "pong"
