"""Celery adapters of core, the helper every app uses to enqueue after commit, and the registry of
callback task names apps hand to another app (core.checks checks them against Celery)."""

import sys

from celery import shared_task
from django.db import transaction

# Callback task name -> the module that declared it (for the system check's message).
_callbacks: dict[str, str] = {}


def callback(name: str) -> str:
    """Declare ``name`` as a Celery task that a lower app will call back by name, and return it.

    A lower app cannot import its caller, so the caller passes the name of its own task (stored in a
    row, e.g. ``Fulfilment.callback_task``). Declared here, the name is checked against the tasks
    Celery has registered by ``manage.py check`` (core.checks): a typo or a renamed task is an
    error at start-up, not a message lost on a worker.
    """
    _callbacks.setdefault(name, sys._getframe(1).f_globals.get("__name__", "?"))
    return name


def declared_callbacks() -> dict[str, str]:
    """Every declared callback name, with the module that declared it."""
    return dict(_callbacks)


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
