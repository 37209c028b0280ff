"""Celery adapters of core, the helper every app uses to enqueue after commit, and the registry of
callback task names apps hand to another app (core.checks checks them against Celery)."""

import logging
import sys

from celery import current_app, shared_task
from django.db import transaction

logger = logging.getLogger(__name__)

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


# Ids per message of enqueue_ids and per batch callback of send_callbacks.
BATCH_LIMIT = 500


def _chunks(items: list, size: int = BATCH_LIMIT):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def enqueue_ids(task, ids, *args, countdown: float | None = None, pending: str | None = None,
                pending_ttl: float = 60) -> None:
    """Send ``task(ids, *args)`` once the current transaction commits, like :func:`enqueue`, for a
    task whose first argument is a list of ids: every call in the same transaction with the same
    task, other arguments and countdown adds its ids to one message (up to ``BATCH_LIMIT`` ids
    each), so a loop over many rows, or over many services each in its own savepoint, sends one
    task, not one per row. Outside a transaction it sends at once.

    Rolled back with its savepoint, an id leaves the message only when that savepoint holds the
    whole message; otherwise it stays, and the task (idempotent, taking ids) finds nothing to do
    for it.

    ``pending`` debounces across transactions, for a task that does *everything* pending, not only
    its ids (it reads what is left to do): the name of a shared marker meaning "a message is queued
    whose task has not read yet". At commit the message is sent only when the marker was not set
    (``cache.add``: it sets it, for ``pending_ttl`` seconds at most); the task clears it
    (:func:`pending_clear`) *before* it reads, so a change committed after that read always sends
    a new message. Where the cache is not shared by every process (the demo's LocMem cache: web
    and worker are separate processes) or cannot be reached, every commit sends, as without it.
    A lost message leaves the marker until it expires: the task's beat sweep is the safety net."""
    ids = list(ids)
    if not ids:
        return
    options = {"countdown": countdown} if countdown else {}
    key = (task.name, repr(args), countdown, pending)

    def send():
        if not send.ids:
            return  # its ids went into a message of an enclosing savepoint
        if pending is not None and not _pending_set(pending, pending_ttl):
            return  # a queued task that has not read yet will find these ids
        try:
            for chunk in _chunks(sorted(set(send.ids))):
                task.apply_async(args=[chunk, *args], **options)
        except Exception:
            if pending is not None:
                pending_clear(pending)  # nothing queued after all: the next commit sends
            raise

    send.batch_key, send.ids = key, ids
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        send()
        return
    scope = set(connection.savepoint_ids)
    for sids, func, _robust in connection.run_on_commit:
        if getattr(func, "batch_key", None) != key or not func.ids:
            continue
        if sids == scope:
            func.ids.extend(ids)
            return
        # A message of another savepoint (a sibling released already, or an enclosing one): both
        # sets of ids go in one message of the savepoints they share, sent with the same commit.
        send.ids, func.ids = func.ids + ids, []
        connection.run_on_commit.append((sids & scope, send, False))
        return
    transaction.on_commit(send)


def _shared_cache():
    """The default cache when every process sees the same one (Redis, Memcached, a database or
    file cache), else None (LocMem is per process; the dummy cache keeps nothing)."""
    from django.conf import settings
    from django.core.cache import cache

    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return None if backend.endswith(("LocMemCache", "DummyCache")) else cache


def _pending_set(name: str, ttl: float) -> bool:
    """Set the marker ``name``; False when it was set already (a queued task will do the work)."""
    cache = _shared_cache()
    if cache is None:
        return True
    try:
        return bool(cache.add(f"pending:{name}", 1, timeout=ttl))
    except Exception:  # noqa: BLE001 - whatever the backend raises when down: send, as without a marker
        logger.warning("pending marker %s not set: cache unavailable", name, exc_info=True)
        return True


def pending_clear(name: str) -> None:
    """Clear the marker ``name`` of :func:`enqueue_ids` (``pending=``): the task calls it before it
    reads what to do, so that a change committed after its read sends another task."""
    cache = _shared_cache()
    if cache is None:
        return
    try:
        cache.delete(f"pending:{name}")
    except Exception:  # noqa: BLE001 - a marker left set expires by itself; the sweep files what it held back
        logger.warning("pending marker %s not cleared: cache unavailable", name, exc_info=True)


def send_callbacks(name: str, calls: list[tuple[list, dict]]) -> None:
    """Send the callback task ``name`` (a name a caller gave, :func:`callback`) once for each of
    ``calls`` (``(args, kwargs)``), once the current transaction commits. When the task registered
    under ``name`` declares a batch form (``@shared_task(..., batch_form="app.things_changed")``,
    a task taking a list of ``[args, kwargs]``), one message of that task carries them all (up to
    ``BATCH_LIMIT`` each): the lower app still only knows the name it was given."""
    calls = [(list(args), dict(kwargs or {})) for args, kwargs in calls]
    if not calls:
        return

    def send():
        registered = current_app.tasks.get(name)
        batch = getattr(registered, "batch_form", None)
        if batch:
            for chunk in _chunks(calls):
                current_app.send_task(batch, args=[[[args, kwargs] for args, kwargs in chunk]])
        else:
            for args, kwargs in calls:
                current_app.send_task(name, args=args, kwargs=kwargs)

    transaction.on_commit(send)


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    from .idempotency import purge_expired

    return purge_expired()


@shared_task(name="core.ping")
def ping() -> str:
    """A no-op task: the baseline of the Celery benchmarks and the worker's health probe."""
    return "pong"
