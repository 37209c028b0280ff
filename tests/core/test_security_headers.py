"""Security headers: a CSP that runs no inline script, and production's HTTPS-only cookies and HSTS."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# A <script> without src (JSON data blocks excepted) and on...= handler attributes: what the CSP refuses.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def templates():
    for app in ("templates", "core", "payments", "customs", "warehouses", "marketplace", "orders"):
        yield from (ROOT / app).rglob("*.html")


def test_pages_carry_a_csp_that_forbids_inline_scripts(client, reference):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in policy and "http" not in policy
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_relies_on_an_inline_script():
    offenders = [f"{path.relative_to(ROOT)}: {match.group(0)[:60]}" for path in templates()
                 for pattern in (INLINE_SCRIPT, HANDLER) for match in pattern.finditer(path.read_text())]
    assert offenders == []


def test_the_api_docs_load_their_script_from_a_url(client):
    html = client.get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert client.get("/api/docs/?script=").status_code == 200


def test_production_sends_hsts_and_secure_cookies():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE", "PYTEST_VERSION")}
    env.update(KARAVAN_ENV="production", DJANGO_SETTINGS_MODULE="config.settings", SECRET_KEY="x" * 64,
               ALLOWED_HOSTS="karavan.example", PERSONAL_DATA_KEYS="c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY=")
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
            "s.SESSION_COOKIE_HTTPONLY)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    seconds, *flags = out.stdout.split()
    assert int(seconds) >= 31536000 and flags == ["True", "True", "True", "True"]
