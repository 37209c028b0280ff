"""Settings of the test suite: the project's own (``config.settings`` in its ``test`` mode: PostgreSQL
and Redis on 127.0.0.1, simulator delays at 0) plus what only tests use, so that production
settings never name it:

* ``tests.testapp``, a tiny app whose model and endpoints exercise the core mechanisms (state
  machine, access scopes, idempotency, Celery);
* ``tests.urls``, the project's URLs plus the test app's API under ``/api/v1/test/``.

pytest uses it (``DJANGO_SETTINGS_MODULE`` in pyproject.toml; ``make test`` exports it too).
"""

import os

os.environ.setdefault("KARAVAN_ENV", "test")

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
ROOT_URLCONF = "tests.urls"
