"""The scratch database every benchmark runs on, created and dropped here: never the demo or test one.

    from bench import scratch

    with scratch.database(DB, keep=args.keep):       # DROP + CREATE, Django set up on it
        scratch.migrate()                            # the schema and every app's reference data
        ...                                          # seed and measure
                                                     # dropped afterwards unless keep

The PostgreSQL server and role come from PGHOST, PGPORT and PGUSER (127.0.0.1, 5432, karavan: the
role ``make test`` creates, which may create databases). Django runs in its ``test`` mode
(config.settings: PostgreSQL and Redis, simulator delays at 0) with DEBUG off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

PG = {"host": os.environ.get("PGHOST", "127.0.0.1"), "port": os.environ.get("PGPORT", "5432"),
      "user": os.environ.get("PGUSER", "karavan")}


def url(name: str) -> str:
    """The DATABASE_URL of the scratch database ``name``."""
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def admin_sql(sql: str) -> None:
    """Run ``sql`` in the server's ``postgres`` database (CREATE and DROP DATABASE), autocommit."""
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        conn.execute(sql)


def create(name: str) -> None:
    """Drop ``name`` if a previous run left it, and create it empty."""
    drop(name)
    admin_sql(f'CREATE DATABASE "{name}"')


def drop(name: str) -> None:
    """Close this process's Django connections (if Django is loaded) and drop ``name``, forcing out
    any other session (a worker, a forked process)."""
    if "django" in sys.modules:
        from django.db import connections

        connections.close_all()
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(name: str, **env: str) -> None:
    """Point Django at the scratch database ``name`` and set it up. ``env`` sets more variables
    first (REDIS_URL, CELERY_BROKER_URL, throttles...), as the environment would."""
    os.environ.update({"KARAVAN_ENV": "test", "DEBUG": "false", "DATABASE_URL": url(name), **env})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def migrate(reference: bool | Iterable[str] = True) -> None:
    """Create the schema, then load reference data: every app's (``manage.py load_reference``) when
    ``reference`` is True, only the named apps' (``<app>.reference.load()``) when it lists them."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if reference is True:
        with open(os.devnull, "w") as quiet:
            call_command("load_reference", stdout=quiet)
    elif reference:
        from importlib import import_module

        for app in reference:
            import_module(f"{app}.reference").load()


@contextmanager
def database(name: str, *, keep: bool = False, reuse: bool = False, **env: str) -> Iterator[str]:
    """Create the scratch database ``name`` afresh (or, with ``reuse``, take the one a ``--keep``
    run left), set Django up on it (``env`` as in :func:`setup_django`) and yield its URL; drop it
    afterwards, whatever happened, unless ``keep``."""
    if not reuse:
        create(name)
    try:
        setup_django(name, **env)
        yield url(name)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            drop(name)
