"""Faults as tests: private services (a Redis, a PostgreSQL) started and stopped by the tests, real
Celery workers as subprocesses on the test database, and the invariants every fault must leave true.

Nothing here touches the machine's shared services beyond the suite's own test database: a Redis or
PostgreSQL a test restarts is its own, on a free port, removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port} after {timeout}s")


# --- a private Redis ---------------------------------------------------------------------------


class PrivateRedis:
    """``redis-server`` on a free port, keeping nothing on disk: a restart loses every queued message."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self):
        self.kill()
        self.start()

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)


@pytest.fixture(scope="session")
def private_redis():
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


# --- a private PostgreSQL ------------------------------------------------------------------------


class PrivatePostgres:
    """A cluster of its own (initdb into a temporary directory, run as the ``postgres`` user when the
    tests run as root), on a free port; ``restart()`` drops every connection as a real restart does."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="karavan-faults-pg-"))
        self.data = self.dir / "data"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args, check=True):
        cmd = [str(a) for a in args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def init(self):
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def pg_ctl(self, action: str):
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-w", "-t", "60", "-m", "fast",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "-l", self.dir / "log", action)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self):
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres():
    server = PrivatePostgres()
    try:
        server.init()
        server.pg_ctl("start")
        yield server
    finally:
        server.remove()


# --- Celery workers as subprocesses ------------------------------------------------------------


def test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """``celery -A config worker`` (prefork) in its own process group, so that SIGKILL takes the
    main process and its pool children at once, as a lost machine or the OOM killer would."""

    def __init__(self, broker: str, env: dict | None = None, concurrency: int = 2, name: str = "faults"):
        self.log = tempfile.NamedTemporaryFile(prefix="karavan-worker-", suffix=".log", delete=False)  # noqa: SIM115
        full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings", "KARAVAN_ENV": "test",
                    "DATABASE_URL": test_database_url(), "CELERY_BROKER_URL": broker, **(env or {})}
        full_env.pop("PYTEST_XDIST_WORKER", None)
        from django.conf import settings

        queues = ",".join(settings.CELERY_QUEUES)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-n", f"{name}-{time.monotonic_ns()}@%h",
             "-Q", queues, "--pool", "prefork", "--concurrency", str(concurrency), "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
            cwd=ROOT, env=full_env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self):
        """SIGKILL to the whole worker: nothing is acknowledged, nothing is cleaned up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-6000:]


@pytest.fixture
def workers():
    """start(broker, env) -> a Worker; every worker still alive at the end is stopped."""
    started: list[Worker] = []

    def start(broker: str, env: dict | None = None, **kwargs) -> Worker:
        worker = Worker(broker, env, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
        with contextlib.suppress(OSError):
            os.unlink(worker.log.name)


# Seconds after which Redis hands a dead worker's unacknowledged messages to another worker, in the
# fault tests (production: 6 hours). Kombu looks for such messages when a worker starts, then only
# every 100 s: the tests let them age past this before starting the next worker.
VISIBILITY = 2


def let_messages_expire():
    time.sleep(VISIBILITY + 1)


@contextlib.contextmanager
def app_broker(url: str):
    """Point this process's Celery app (what ``core.tasks.enqueue`` publishes with) at ``url``, and
    back afterwards. The connection pools are dropped both ways so that no cached one is reused."""
    from config.celery import app

    def reset():
        app._pool = None
        with contextlib.suppress(AttributeError, KeyError):
            app.__dict__["amqp"]._producer_pool = None

    # The Django-namespaced key wins over the plain one when both are set: change both.
    previous = app.conf.broker_url
    app.conf.update(CELERY_BROKER_URL=url, broker_url=url, task_always_eager=False)
    reset()
    assert app.conf.broker_url == url
    try:
        yield app
    finally:
        app.conf.update(CELERY_BROKER_URL=previous, broker_url=previous)
        reset()


@pytest.fixture
def private_broker(private_redis, transactional_db):
    """The test process publishes to the private Redis, emptied first."""
    private_redis.client().flushall()
    with app_broker(private_redis.url) as app:
        yield private_redis, app


# --- the invariants every fault must leave true ------------------------------------------------


def assert_ledger_balanced():
    from tests.payments.helpers import assert_ledger_consistent

    assert_ledger_consistent()


def assert_stock_consistent():
    from django.db import connection

    from warehouses.selectors import stock_drift

    assert stock_drift() == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM warehouses_stocklevel WHERE reserved < 0 OR on_hand < 0")
        assert cursor.fetchone()[0] == 0, "negative stock"


def assert_no_transition_twice(machine: str | None = None):
    """No object took the same (from, to) move twice (the machines here have no cycles on the road;
    a second event for one pair would be a step applied twice)."""
    from core.models import TransitionEvent

    qs = TransitionEvent.objects.all()
    if machine:
        qs = qs.filter(machine=machine)
    pairs = Counter(qs.values_list("machine", "object_id", "from_state", "to_state"))
    twice = {k: n for k, n in pairs.items() if n > 1}
    assert twice == {}, f"transitions applied twice: {twice}"


def assert_all_invariants():
    assert_ledger_balanced()
    assert_stock_consistent()
    assert_no_transition_twice()
