"""Shared fixtures: users per role, API clients, a real Celery worker, Debian's chromium."""

import os
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from core.access import GROUP_ROLES

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def pytest_configure(config):
    from django.conf import settings

    if "tests.testapp" not in settings.INSTALLED_APPS:
        raise pytest.UsageError(
            "The suite runs with the test settings (DJANGO_SETTINGS_MODULE=tests.settings, as pyproject.toml and "
            f"`make test` set it), not {os.environ.get('DJANGO_SETTINGS_MODULE')!r}: unset the variable or pass --ds=tests.settings."
        )


@pytest.fixture
def make_user(db):
    User = get_user_model()

    def make(username: str, *roles: str, password: str = "pass-1234-word", **extra):
        user = User.objects.create_user(username=username, password=password, **extra)
        for role in roles:
            if role == "staff":
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            elif role in GROUP_ROLES:
                user.groups.add(Group.objects.get_or_create(name=role)[0])
        return user

    return make


@pytest.fixture
def buyer(make_user):
    return make_user("buyer_a", "buyer")


@pytest.fixture
def other_buyer(make_user):
    return make_user("buyer_b", "buyer")


@pytest.fixture
def staff(make_user):
    return make_user("staff_a", "staff")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    def login(user):
        api.force_authenticate(user=user)
        return api

    return login


@pytest.fixture
def reference(db):
    """Countries, currencies, places and everything each app loads from reference/."""
    from django.core.management import call_command

    call_command("load_reference", stdout=open(os.devnull, "w"))  # noqa: SIM115


# --- Celery: a real worker on Redis -------------------------------------------------


@pytest.fixture(scope="session")
def celery_config():
    return {"broker_url": os.environ.get("CELERY_TEST_BROKER_URL", _test_broker_url()), "result_backend": None}


def _test_broker_url() -> str:
    from django.conf import settings

    # One Redis database per xdist worker, so parallel workers never steal each other's tasks.
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").lstrip("gw") or "0"
    return f"{base}/{10 + int(worker)}"


@pytest.fixture
def celery_worker(transactional_db, celery_config):
    """A real worker (in a thread) consuming from Redis, on every queue; tasks see committed rows only."""
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from config.celery import app

    app.conf.update(broker_url=celery_config["broker_url"], task_always_eager=False)
    with app.connection_for_write() as conn:  # start from an empty broker
        for queue in settings.CELERY_QUEUES:
            conn.default_channel.client.delete(queue)
    from celery.signals import task_postrun
    from django.db import connection

    def close_connection(**kwargs):
        connection.close()  # the worker's threads must not keep the test database open

    task_postrun.connect(close_connection, weak=False)
    try:
        # The solo pool: with the threads pool and acks_late, the next message waits up to ~10 s
        # for the ack of the last one (celery/celery#6941); journeys would crawl.
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10,
                          queues=settings.CELERY_QUEUES, loglevel="WARNING"):
            yield app
    finally:
        task_postrun.disconnect(close_connection)


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll until ``predicate()`` is truthy: journeys wait for the state, never a fixed sleep."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


# --- Playwright on Debian's chromium ----------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session", autouse=True)
def _allow_async_unsafe():
    # Playwright's sync API runs an event loop in the test thread; Django would refuse DB access.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached reads live in Redis: each test starts from an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
