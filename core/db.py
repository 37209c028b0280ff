"""Reads from a PostgreSQL replica where they may be a little behind; everything else on the primary.

Only page and API reads of a safe request (GET, HEAD) go to the replica, and only outside a
transaction: a write, a lock, a read that must see its own transaction, a Celery task (which reads
the rows the request that sent it has just committed) and a management command all stay on the
primary. A client that has just written keeps reading the primary for ``REPLICA_PIN_SECONDS``, so
that the page after a form shows what the form did, whatever the replica's lag. Configured by
``DATABASE_REPLICA_URL`` (docs/operations.md); without it, there is one database and this does nothing.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PIN_COOKIE = "karavan_primary"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_replica_ok: ContextVar[bool] = ContextVar("replica_ok", default=False)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _replica_ok.get() and REPLICA in settings.DATABASES and not connections["default"].in_atomic_block:
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class ReplicaReadsMiddleware:
    """Lets the reads of a safe request go to the replica, unless the client wrote a moment ago."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pinned = _pinned_until(request) > time.time()
        token = _replica_ok.set(request.method in SAFE_METHODS and not pinned)
        try:
            response = self.get_response(request)
        finally:
            _replica_ok.reset(token)
        if request.method not in SAFE_METHODS and REPLICA in settings.DATABASES:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(PIN_COOKIE, str(int(time.time() + seconds)), max_age=seconds, httponly=True,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response


def _pinned_until(request) -> float:
    try:
        return float(request.COOKIES.get(PIN_COOKIE, 0))
    except ValueError:
        return 0.0
