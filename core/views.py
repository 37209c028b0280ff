import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core.api.errors import DATABASE_DOWN, RETRY_AFTER_SECONDS, SERVICE_UNAVAILABLE_MESSAGE, json_error
from core.errors import ErrorCode


@never_cache
def healthz(request):
    """200 when the database and the broker answer, 503 otherwise (for load balancers and `make demo`)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        from config.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503)


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["demo"] = settings.DEMO
        return ctx

    def get_default_redirect_url(self):
        """Without a ``next``, a role's landing page (a URL name in ``LOGIN_LANDING_BY_ROLE``)."""
        from django.shortcuts import resolve_url

        from core.access import roles_of

        roles = roles_of(self.request.user)
        for role, url_name in getattr(settings, "LOGIN_LANDING_BY_ROLE", {}).items():
            if role in roles:
                return resolve_url(url_name)
        return super().get_default_redirect_url()


def lockout(request, credentials=None, *args, **kwargs):
    """django-axes calls this when an account is locked (10 failures in 15 minutes)."""
    if request.path.startswith("/api/"):
        return json_error(429, ErrorCode.LOGIN_LOCKED, "Too many failed logins: try again in 15 minutes.")
    messages.error(request, _("Too many failed logins for this account. Try again in 15 minutes."))
    return render(request, "core/login.html", {"form": None, "locked": True}, status=429)


def permission_denied(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(403, ErrorCode.PERMISSION_DENIED, "Forbidden.")
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(404, ErrorCode.NOT_FOUND, "Not found.")
    return render(request, "404.html", status=404)


def service_unavailable(request):
    """503 with ``Retry-After``: the error envelope under /api/, a branded page elsewhere (rendered
    without the request's context, which could need the database)."""
    if request.path.startswith("/api/"):
        response = json_error(503, ErrorCode.SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE)
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        return json_error(500, ErrorCode.SERVER_ERROR, "Something went wrong on our side; it has been logged.")
    # No context processors: they may need the database that just failed.
    return HttpResponse(loader.render_to_string("500.html"), status=500)
