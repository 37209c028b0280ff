"""The OpenAPI schema tells the truth: schemathesis (every check) against the live server on the demo
data, signed in as each role.

``make test`` runs a bounded pass: the schema's examples and 5 generated cases per operation (valid and
invalid ones) as each role. ``make fuzz`` runs the long one through the same test (KARAVAN_FUZZ=1): 50
cases per operation (KARAVAN_FUZZ_EXAMPLES) and every phase, the coverage phase (the boundaries and
the invalid variants of every parameter, undeclared methods) and the stateful one (links between
operations) too.

Left out, and why: the payment webhook (``/api/v1/payments/webhooks/``) is authenticated by an HMAC
signature over the body that schemathesis cannot produce, so every request it could make is refused
before anything else is checked; the test app's endpoints (``/api/v1/test/``, tests/testapp) are not
the product's API (the product's schema, with config.settings, does not have them) and one of them
fails on purpose.
"""

import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ST = Path(sys.executable).with_name("st")

FUZZ = os.environ.get("KARAVAN_FUZZ") == "1"
# Demo accounts (core/demo.py), one per role.
ROLES = {"seller": "seller_kz", "buyer": "buyer_kz", "operator": "operator_ala", "broker": "broker", "staff": "admin"}
EXCLUDE = r"^/api/v1/(payments/webhooks/|test/)"


def plan(role: str) -> dict:
    if FUZZ:
        return {"phases": "examples,coverage,fuzzing,stateful", "max_examples": int(os.environ.get("KARAVAN_FUZZ_EXAMPLES", 50))}
    return {"phases": "examples,fuzzing", "max_examples": int(os.environ.get("KARAVAN_FUZZ_EXAMPLES", 5))}


def command(url: str, token: str, role: str) -> list[str]:
    p = plan(role)
    return [str(ST), "--config-file", str(HERE / "schemathesis.toml"), "--no-color", "run", f"{url}/api/schema/",
            "--checks", "all", "--phases", p["phases"], "--max-examples", str(p["max_examples"]),
            "--header", f"Authorization: Token {token}", "--exclude-path-regex", EXCLUDE,
            "--workers", "1", "--seed", os.environ.get("KARAVAN_FUZZ_SEED", "20261130"), "--request-timeout", "30"]


@pytest.fixture
def demo(transactional_db):
    from django.contrib.auth import get_user_model

    # Seeded in a process of its own, its tasks sent to a broker that forgets them: the demo's tasks and
    # whatever seeding leaves in this process's memory must not reach the tests that run after this one.
    from django.db import connection
    from rest_framework.authtoken.models import Token

    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "KARAVAN_ENV": "test", "CELERY_BROKER_URL": "memory://",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    seeded = subprocess.run([sys.executable, "manage.py", "seed_demo", "--force"], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    users = get_user_model().objects.in_bulk(ROLES.values(), field_name="username")
    return {role: Token.objects.get_or_create(user=users[name])[0].key for role, name in ROLES.items()}


@pytest.fixture
def quiet_server():
    """The live server logs every 4xx it answers (thousands here): only errors are worth reading."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def test_the_schema_tells_the_truth_to_every_role(live_server, demo, quiet_server):
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks", "PYTHONPATH": str(ROOT)}
    failed, report = [], []
    for role, token in demo.items():
        started = time.monotonic()
        run = subprocess.run(command(live_server.url, token, role), cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=3600 if FUZZ else 600, check=False)
        summary = re.findall(r"^\s*(\d+) generated.*$", run.stdout, re.M)
        report.append(f"{role}: exit {run.returncode}, {summary[-1] if summary else '?'} cases, "
                      f"{time.monotonic() - started:.0f} s")
        if run.returncode != 0:
            failed.append(f"===== as {role} ({ROLES[role]}) =====\n{run.stdout[-20000:]}\n{run.stderr[-3000:]}")
    print("\n".join(report))
    assert not failed, "\n".join(report) + "\n\n" + "\n\n".join(failed)
