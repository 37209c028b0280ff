"""Reads of safe requests go to the replica when there is one; writes, transactions, tasks and the
requests right after a write stay on the primary (core.db, docs/operations.md)."""

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from core.db import PIN_COOKIE, ReplicaReadsMiddleware, ReplicaRouter
from core.models import Country

# Outside the test's own transaction, or every read would stay on the primary whatever the router says.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def replica(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": settings.DATABASES["default"]}


def read_db(request):
    """Which database a read of ``request`` would use (inside and outside a transaction)."""
    seen = {}

    def view(request):
        seen["outside"] = ReplicaRouter().db_for_read(Country)
        with transaction.atomic():
            seen["inside"] = ReplicaRouter().db_for_read(Country)
        return HttpResponse("ok")

    response = ReplicaReadsMiddleware(view)(request)
    return seen, response


def test_safe_requests_read_the_replica_outside_transactions(replica):
    seen, _ = read_db(RequestFactory().get("/"))
    assert seen == {"outside": "replica", "inside": "default"}


def test_writes_and_tasks_read_the_primary(replica):
    seen, response = read_db(RequestFactory().post("/"))
    assert seen == {"outside": "default", "inside": "default"}
    assert ReplicaRouter().db_for_read(Country) == "default"  # outside a request: Celery, commands
    assert ReplicaRouter().db_for_write(Country) == "default"
    # The client that wrote reads the primary for a while: its next page shows what it did.
    pinned = RequestFactory().get("/")
    pinned.COOKIES[PIN_COOKIE] = response.cookies[PIN_COOKIE].value
    assert read_db(pinned)[0]["outside"] == "default"


def test_without_a_replica_everything_reads_the_primary():
    seen, response = read_db(RequestFactory().get("/"))
    assert seen == {"outside": "default", "inside": "default"}
    assert PIN_COOKIE not in read_db(RequestFactory().post("/"))[1].cookies
    assert ReplicaRouter().allow_migrate("replica", "core") is False
