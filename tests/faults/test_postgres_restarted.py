"""PostgreSQL restarted under load: a real server (gunicorn, gthread) on a private PostgreSQL cluster,
API reads and writes and storefront pages fired from threads while the cluster stops and starts
again. Every answer is a success or a 503 ``service_unavailable`` (the error envelope under /api/,
the branded page elsewhere, both with ``Retry-After``), never a 500; nothing is half-written (the
ledger balances, every acknowledged conversion exists exactly once); and once PostgreSQL is back
the server answers 200 by itself (``CONN_HEALTH_CHECKS``)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter

import psycopg
import pytest
import requests

from core.access import SYSTEM_ACTOR
from core.money import Money

from .conftest import PG_BIN, ROOT, _wait_port, free_port

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

THREADS = 4


def copy_test_database(server) -> str:
    """The test database as it is now (reference data, the buyer and its wallet), into the cluster."""
    from django.db import connection

    db = connection.settings_dict
    dump = server.dir / "seed.dump"
    subprocess.run([str(PG_BIN / "pg_dump"), "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U",
                    db["USER"], "-d", db["NAME"], "-Fc", "--no-owner", "--no-privileges", "-f", str(dump)],
                   check=True, timeout=120)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE karavan")
    subprocess.run([str(PG_BIN / "pg_restore"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-d",
                    "karavan", "--no-owner", "--no-privileges", str(dump)], check=True, timeout=120)
    return server.url("karavan")


@contextlib.contextmanager
def gunicorn(database_url: str):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "KARAVAN_ENV": "test", "DATABASE_URL": database_url,
           "DB_CONN_MAX_AGE": "60"}
    log = tempfile.NamedTemporaryFile("w+", prefix="karavan-faults-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                             "--worker-class", "gthread", "--workers", "1", "--threads", str(THREADS), "--timeout", "60"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)


def test_postgres_restarted_under_load(private_postgres, make_user, reference):
    from rest_framework.authtoken.models import Token

    from payments import services as pay
    from payments.interface import Owner

    buyer = make_user("pg_fault_buyer", "buyer")
    pay.top_up(owner=Owner.user(buyer), amount=Money.of("5000.00", "CNY"), provider="simulator",
               provider_event_id="pg-fault", actor=SYSTEM_ACTOR)
    token = Token.objects.create(user=buyer).key
    database_url = copy_test_database(private_postgres)

    answers: list[tuple[str, int, str, dict, str]] = []  # (kind, status, content type, json or {}, retry-after)
    acked: dict[str, int] = {}  # Idempotency-Key -> ledger transaction of a 201
    attempted: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    with gunicorn(database_url) as (base, log):
        session_headers = {"Authorization": f"Token {token}"}

        def fire(n: int):
            http = requests.Session()
            i = 0
            while not stop.is_set():
                i += 1
                kind = ("read", "write", "page")[(n + i) % 3]
                try:
                    if kind == "write":
                        key = uuid.uuid4().hex
                        with lock:
                            attempted.append(key)
                        r = http.post(f"{base}/api/v1/wallets/convert/", headers={**session_headers, "Idempotency-Key": key},
                                      json={"amount": {"amount": "1.00", "currency": "CNY"}, "to_currency": "KZT"}, timeout=30)
                        if r.status_code == 201:
                            with lock:
                                acked[key] = r.json()["transaction"]
                    elif kind == "read":
                        r = http.get(f"{base}/api/v1/wallets/", headers=session_headers, timeout=30)
                    else:
                        r = http.get(f"{base}/s/kz/", timeout=30)
                except requests.RequestException as exc:  # the server itself must not drop a request
                    with lock:
                        answers.append((kind, -1, "", {}, repr(exc)))
                    continue
                body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}
                with lock:
                    answers.append((kind, r.status_code, r.headers.get("Content-Type", ""), body,
                                    r.headers.get("Retry-After", "")))
                    if r.status_code == 503 and kind == "page":
                        answers.append(("page-body", 503, "", {}, r.text[:2000]))

        threads = [threading.Thread(target=fire, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        try:
            time.sleep(2)  # warm: every thread has a connection open
            before = len(answers)
            private_postgres.pg_ctl("stop")
            time.sleep(1.5)  # down: every request now meets a dead connection or a refused one
            private_postgres.pg_ctl("start")
            time.sleep(3)
            during = answers[before:]
        finally:
            stop.set()
            for t in threads:
                t.join(60)

        # Back by itself: the next requests of a fresh client succeed.
        after = [requests.get(f"{base}/api/v1/wallets/", headers=session_headers, timeout=30).status_code for _ in range(5)]
        server_log = (log.seek(0), log.read())[1]

    statuses = Counter((kind, status) for kind, status, *_ in answers if kind != "page-body")
    assert all(status in (200, 201, 503) for (_kind, status) in statuses), (
        statuses, [a for a in answers if a[1] not in (200, 201, 503)], server_log[server_log.find("Unhandled"):][:5000])
    assert any(status == 503 for _kind, status, *_ in during), f"the restart was not felt: {statuses}"
    for kind, status, content_type, body, extra in answers:
        if status != 503:
            continue
        if kind in ("read", "write"):
            assert content_type.startswith("application/json") and body["error"]["code"] == "service_unavailable", body
            assert body["error"]["message"] and extra, (body, extra)
        elif kind == "page":
            assert content_type.startswith("text/html") and extra, (content_type, extra)
        elif kind == "page-body":
            assert "Karavan" in extra and "<html" in extra.lower()
    assert after == [200] * 5

    with psycopg.connect(database_url) as conn:
        unbalanced = conn.execute("SELECT txn_id, currency, sum(amount_minor) FROM payments_entry GROUP BY txn_id, currency "
                                  "HAVING sum(amount_minor) <> 0").fetchall()
        assert unbalanced == []
        drift = conn.execute("SELECT a.id FROM payments_account a LEFT JOIN payments_entry e ON e.account_id = a.id "
                             "GROUP BY a.id, a.balance_minor HAVING a.balance_minor <> coalesce(sum(e.amount_minor), 0)"
                             ).fetchall()
        assert drift == []
        rows = conn.execute("SELECT idempotency_key, id FROM payments_transaction WHERE kind = 'conversion'").fetchall()
    rows = [(key.rsplit(":", 1)[-1], pk) for key, pk in rows]  # stored as conversion:user:<id>:<Idempotency-Key>
    booked = Counter(key for key, _id in rows)
    assert all(n == 1 for n in booked.values())
    assert set(booked) <= set(attempted)  # nothing booked that nobody asked for
    # Every acknowledged conversion exists, once, as the transaction the client was told.
    assert {key: dict(rows)[key] for key in acked} == acked
    assert len(acked) > 0


def test_each_path_maps_a_database_error_to_503(rf):
    """The three places a database error can surface: DRF's handler, the middleware (errors outside
    DRF under /api/) and the 500 handler (pages, and errors in other middleware)."""
    import json

    from django.db import InterfaceError, OperationalError

    from core.api.errors import exception_handler
    from core.middleware import ApiErrorMiddleware
    from core.views import server_error

    drf = exception_handler(OperationalError("the database system is shutting down"), {})
    assert drf.status_code == 503 and drf.data["error"]["code"] == "service_unavailable" and drf["Retry-After"] == "5"
    middleware = ApiErrorMiddleware(lambda request: None).process_exception(rf.get("/api/v1/wallets/"), InterfaceError())
    assert middleware.status_code == 503 and json.loads(middleware.content)["error"]["code"] == "service_unavailable"
    try:
        raise InterfaceError("connection already closed")
    except InterfaceError:
        page, api = server_error(rf.get("/s/kz/")), server_error(rf.get("/api/v1/orders/"))
    assert page.status_code == 503 and page["Retry-After"] == "5" and b"Karavan" in page.content
    assert api.status_code == 503 and json.loads(api.content)["error"]["code"] == "service_unavailable"
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(rf.get("/s/kz/")).status_code == 500  # other errors stay 500
