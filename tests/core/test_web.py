"""The base UI: languages, login and logout with CSRF, health."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Storefronts"), ("ru", "Витрины"), ("zh-hans", "店铺"), ("kk", "Дүкендер"), ("uz", "Do‘konlar")],
)
def test_home_speaks_the_visitors_language(client, reference, language, expected):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert expected in html
    assert f'lang="{language}"' in html


def test_language_switcher_sets_the_language(client, reference):
    resp = client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert resp.status_code == 302
    assert "Витрины" in client.get("/").content.decode()


def test_all_assets_are_local(client, reference):
    html = client.get("/").content.decode()
    for needle in ("http://", "https://", "//cdn"):
        assert needle not in html.replace('href="https://', "")  # no external scripts or styles at all
    assert "/static/vendor/htmx-2.0.11.min.js" in html


def test_login_form_requires_csrf(make_user):
    make_user("carol", "buyer", password="carol-pass-word")
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/accounts/login/", {"username": "carol", "password": "carol-pass-word"}).status_code == 403
    page = strict.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    resp = strict.post("/accounts/login/", {"username": "carol", "password": "carol-pass-word", "csrfmiddlewaretoken": token})
    assert resp.status_code == 302
    assert "carol" in strict.get("/").content.decode()


def test_wrong_password_shows_a_form_error(client, make_user):
    make_user("carol", "buyer", password="carol-pass-word")
    resp = client.post("/accounts/login/", {"username": "carol", "password": "nope"})
    assert resp.status_code == 200
    assert 'role="alert"' in resp.content.decode()


def test_web_login_locks_after_ten_failures(client, make_user):
    make_user("carol", "buyer", password="carol-pass-word")
    for _ in range(10):
        client.post("/accounts/login/", {"username": "carol", "password": "nope"})
    resp = client.post("/accounts/login/", {"username": "carol", "password": "carol-pass-word"})
    assert resp.status_code == 429
    assert 'data-testid="locked"' in resp.content.decode()


def test_logout_is_a_post(client, make_user):
    user = make_user("carol", "buyer")
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and "carol" not in home.content.decode()


def test_healthz_checks_database_and_broker(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_reports_a_dead_broker(client, monkeypatch):
    from kombu import Connection

    from config.celery import app

    monkeypatch.setattr(app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0"))
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.json()["checks"]["broker"].startswith("error")


def test_unknown_page_is_a_friendly_404(client, reference):
    resp = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="ru")
    assert resp.status_code == 404
    html = resp.content.decode()
    assert "Не найдено" in html and 'class="topbar"' in html
    assert "URLconf" not in html and "Traceback" not in html  # never Django's debug page


def test_the_demo_runs_without_debug_pages():
    """`make demo` sets nothing: the defaults of demo mode must not turn DEBUG on."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE", "PYTEST_VERSION")}
    env.update(KARAVAN_ENV="demo", DJANGO_SETTINGS_MODULE="config.settings")
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                          "print(settings.DEBUG, settings.DEMO)"], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_a_page_of_another_role_is_a_branded_403(client, make_user, reference):
    client.force_login(make_user("carol", "buyer"))
    resp = client.get("/customs/", HTTP_ACCEPT_LANGUAGE="ru")
    assert resp.status_code == 403
    html = resp.content.decode()
    assert "Нет доступа" in html and 'class="topbar"' in html


@pytest.mark.parametrize(("language", "expected"), [("kk", "сәлден соң оралады"), ("uz", "birozdan so‘ng qaytadi"),
                                                    ("zh-hans", "马上回来")])
def test_the_outage_page_speaks_the_readers_language(rf, language, expected):
    from django.utils import translation

    from core.views import server_error, service_unavailable

    with translation.override(language):
        page = service_unavailable(rf.get("/s/kz/"))
        assert page.status_code == 503 and expected in page.content.decode()
        assert f'lang="{language}"' in server_error(rf.get("/s/kz/")).content.decode()
