"""Shared fixtures: users per role, sellers and their companies, API clients, a real Celery worker,
Debian's chromium."""

import contextlib
import itertools
import os
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from core.access import GROUP_ROLES, SYSTEM_ACTOR

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


# --- companies and the sellers who own them -----------------------------------------------

_seq = itertools.count(1)


def kz_bin() -> str:
    """A Kazakh BIN with a valid check digit, new on each call."""
    from core.taxids import kz_make

    while True:
        value = kz_make(f"{next(_seq):011d}")
        if value:
            return value


def cn_uscc() -> str:
    """A Chinese unified social credit code with a valid check character, new on each call."""
    from core.taxids import cn_make

    return cn_make(f"9111000060{next(_seq):07d}")


def tax_id_for(country: str) -> str:
    """A tax id of the format ``country`` uses (checked where the country publishes a check)."""
    if country == "KZ":
        return kz_bin()
    if country == "CN":
        return cn_uscc()
    return f"{next(_seq):014d}" if country == "KG" else f"{next(_seq):09d}"


@pytest.fixture
def make_company(reference):
    """make_company(country="KZ", *, owner=None, storefronts=(), verified=True, name=None): a company
    with a valid tax id of its country, owned by ``owner`` when given, admitted to ``storefronts``
    (requested and approved, as staff would)."""
    from core.models import Company, CompanyMember
    from marketplace import services
    from marketplace.models import Storefront, StorefrontMembership

    def make(country="KZ", *, owner=None, storefronts=(), verified=True, name=None):
        company = Company.objects.create(
            name=name or f"{country} Trading {next(_seq)}", country_id=country, tax_id=tax_id_for(country),
            verification=Company.Verification.VERIFIED if verified else Company.Verification.PENDING,
        )
        if owner is not None:
            CompanyMember.objects.create(company=company, user=owner, role=CompanyMember.Role.OWNER)
        for code in storefronts:
            membership = services.storefront_join_request(company=company, storefront=Storefront.objects.get(code=code),
                                                          actor=SYSTEM_ACTOR)
            services.storefront_membership_decide(membership=membership, to=StorefrontMembership.Status.APPROVED,
                                                  actor=SYSTEM_ACTOR)
        return company

    return make


@pytest.fixture
def make_seller(make_user, make_company):
    """make_seller(username, country="KZ", *, company=None, role="owner", name=None, storefronts=(),
    verified=True): a user with the seller role in a company: ``company`` when given (as ``role``),
    else a new one of ``country`` that the user owns (see make_company). ``user.company`` is it."""
    from core.models import CompanyMember

    def make(username, country="KZ", *, company=None, role=CompanyMember.Role.OWNER, name=None, storefronts=(),
             verified=True):
        user = make_user(username, "seller")
        if company is None:
            company = make_company(country, storefronts=storefronts, verified=verified, name=name)
        CompanyMember.objects.create(company=company, user=user, role=role)
        user.company = company
        return user

    return make


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
    with running_worker(celery_config["broker_url"]) as app:
        yield app


@contextlib.contextmanager
def running_worker(broker_url: str):
    """Start a real worker in a thread on an emptied broker; stop it on leaving."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.conf import settings
    from django.db import connection
    from kombu.asynchronous import set_event_loop

    from config.celery import app

    app.conf.update(broker_url=broker_url, task_always_eager=False)
    with app.connection_for_write() as conn:  # start from an empty broker
        for queue in settings.CELERY_QUEUES:
            conn.default_channel.client.delete(queue)

    def close_connection(**kwargs):
        connection.close()  # the worker's threads must not keep the test database open

    # A worker in a thread reuses the process's event loop: its timer would be the first worker's,
    # long stopped, and a message with a countdown would never run in any later test.
    set_event_loop(None)
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
