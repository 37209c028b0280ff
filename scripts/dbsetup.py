"""Prepare the services `make test` needs, before Django (which would connect first) is imported.

    dbsetup.py --create-role   # DATABASE_URL names a local role/database: create them if missing
    dbsetup.py                 # only check DATABASE_URL is reachable; create its database if the role may

With --create-role the PostgreSQL superuser ``postgres`` (trust auth, as on the project's machines
and in CI) creates the role (LOGIN CREATEDB) and the database owned by it when they are missing.
Then, in both modes, the database must accept the role and Redis (REDIS_URL) must answer PING.
Anything missing is reported in one line saying how to fix it, with exit status 1.
Only psycopg and redis from the venv are used: no psql client, no Django settings.
"""

import argparse
import os
import socket
import sys
from pathlib import Path

import psycopg
import redis
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

DEFAULT_DATABASE_URL = "postgres://karavan@127.0.0.1:5432/karavan"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SUPERUSER = "postgres"
TIMEOUT = 5


class Missing(Exception):
    """Something `make test` needs and cannot create: the message says what and how to fix it."""


def pg_start_hint() -> str:
    versions = sorted((p.name for p in Path("/etc/postgresql").glob("*")), key=lambda v: [int(x) for x in v.split(".") if x.isdigit()])
    if versions:
        return f"pg_ctlcluster --skip-systemctl-redirect {versions[-1]} main start"
    return "apt-get install postgresql && pg_ctlcluster --skip-systemctl-redirect <version> main start"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT):
            return True
    except OSError:
        return False


def reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text.rsplit("failed: ", 1)[-1]  # drop libpq's "connection to server at ... failed:" preamble


def connect(params: dict, **overrides) -> psycopg.Connection:
    return psycopg.connect(make_conninfo("", **{**params, **overrides}), connect_timeout=TIMEOUT, autocommit=True)


def check_server(params: dict, source: str) -> None:
    host, port = params.get("host") or "", int(params.get("port") or 5432)
    if host and not host.startswith("/") and not reachable(host, port):
        raise Missing(f"PostgreSQL is not running on {host}:{port} ({source}): start it with `{pg_start_hint()}`")


def create_role_and_database(params: dict) -> None:
    """As the local superuser: the role (LOGIN CREATEDB) and its database, when missing."""
    role, dbname = params.get("user"), params.get("dbname")
    if not role or not dbname:
        raise Missing("--create-role needs a DATABASE_URL naming both the role and the database")
    try:
        conn = connect({k: v for k, v in params.items() if k != "password"}, user=SUPERUSER, dbname="postgres")
    except psycopg.OperationalError as exc:
        raise Missing(
            f"PostgreSQL superuser {SUPERUSER!r} cannot log in to create role {role!r} ({reason(exc)}): "
            f"create it yourself (CREATE ROLE {role} LOGIN CREATEDB; CREATE DATABASE {dbname} OWNER {role}) or set DATABASE_URL"
        ) from exc
    with conn:
        row = conn.execute("SELECT rolcanlogin, rolcreatedb FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        if row is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(sql.Identifier(role)))
            print(f"dbsetup: created PostgreSQL role {role} (LOGIN CREATEDB)")
        elif not all(row):
            conn.execute(sql.SQL("ALTER ROLE {} LOGIN CREATEDB").format(sql.Identifier(role)))
            print(f"dbsetup: role {role} may now log in and create databases")
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(role)))
            print(f"dbsetup: created database {dbname} owned by {role}")


def check_database(params: dict, source: str) -> None:
    """Connect as the configured role; create its database if it is missing and the role may."""
    role, dbname = params.get("user") or os.environ.get("USER", ""), params.get("dbname") or ""
    try:
        connect(params).close()
        return
    except psycopg.OperationalError as exc:
        error = exc
    try:
        conn = connect(params, dbname="postgres")
    except psycopg.OperationalError:
        raise Missing(f"PostgreSQL refuses {source} ({reason(error)}): fix DATABASE_URL, or unset it to let `make test` create a local role") from error
    with conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is not None:
            raise Missing(f"PostgreSQL refuses {source} ({reason(error)})") from error
        may = conn.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        if not may:
            raise Missing(
                f"database {dbname!r} ({source}) does not exist and role {role!r} may not create it: "
                f"CREATE DATABASE {dbname} OWNER {role} as a superuser, or ALTER ROLE {role} CREATEDB"
            ) from error
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        print(f"dbsetup: created database {dbname}")
    connect(params).close()


def check_redis(url: str, source: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT).ping()
    except redis.RedisError as exc:
        kwargs = redis.connection.parse_url(url)
        where = f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}"
        hint = f"redis-server --daemonize yes --bind 127.0.0.1 --port {kwargs.get('port', 6379)} --save '' --appendonly no"
        raise Missing(f"Redis is not answering on {where} ({source}: {exc}): start it with `{hint}`") from exc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--create-role", action="store_true",
                        help="create the role and database of DATABASE_URL as the local superuser if missing")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    source = "DATABASE_URL" if os.environ.get("DATABASE_URL") else f"default {DEFAULT_DATABASE_URL}"
    try:
        scheme, _, rest = url.partition("://")
        redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
        params = None
        if scheme in {"postgres", "postgresql", "pgsql", "psql"}:
            params = conninfo_to_dict("postgresql://" + rest)
            check_server(params, source)
        check_redis(redis_url, "REDIS_URL" if os.environ.get("REDIS_URL") else "default")
        if params is not None:
            if args.create_role:
                create_role_and_database(params)
            check_database(params, source)
    except Missing as exc:
        print("make test: " + " ".join(str(exc).split()), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
