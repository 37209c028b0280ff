"""The API error envelope: {"error": {"code", "message", "fields"}} for every failure.

No rollback happens here: core.api.views runs each unsafe handler in its own atomic block, which
the exception has already rolled back by the time DRF calls this handler.
"""

import logging

from axes.exceptions import AxesBackendPermissionDenied
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from core.errors import DomainError, ErrorCode

log = logging.getLogger("karavan.api")

# The database unreachable for a moment (a restart, a failover): 503 with Retry-After, here, in
# core.middleware (errors outside DRF) and core.views.server_error (pages). CONN_HEALTH_CHECKS opens
# a new connection for the next request, so the service comes back by itself.
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
SERVICE_UNAVAILABLE_MESSAGE = "The service is unavailable for a moment; try again in a few seconds."

_DRF_CODES = {
    exceptions.ParseError: ErrorCode.PARSE_ERROR,
    exceptions.AuthenticationFailed: ErrorCode.AUTHENTICATION_FAILED,
    exceptions.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
    exceptions.PermissionDenied: ErrorCode.PERMISSION_DENIED,
    exceptions.NotFound: ErrorCode.NOT_FOUND,
    exceptions.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ErrorCode.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ErrorCode.THROTTLED,
}


def envelope(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": str(code), "message": str(message), "fields": fields or {}}}


def json_error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(envelope(code, message, fields), status=status)


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"lines.0.quantity": ["..."]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            out[prefix or "non_field_errors"] = [str(v) for v in detail]
        else:
            for i, value in enumerate(detail):
                if value:
                    out.update(_flatten(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, AxesBackendPermissionDenied):
        return Response(envelope(ErrorCode.LOGIN_LOCKED, "Too many failed logins: try again in 15 minutes."), status=429)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        return Response(envelope(ErrorCode.VALIDATION, "Invalid input.", fields), status=400)
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), exc.default_code)
        headers = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        detail = exc.detail if isinstance(exc.detail, str) else _flatten(exc.detail)
        message = detail if isinstance(detail, str) else "Request refused."
        return Response(envelope(code, message), status=exc.status_code, headers=headers)

    if isinstance(exc, DATABASE_DOWN):
        # The database is unreachable for a moment (a restart): nothing was written (the handler's
        # transaction is rolled back), the client may send it again.
        log.warning("database unavailable: %s", exc)
        return Response(envelope(ErrorCode.SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE), status=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    log.exception("Unhandled API error", exc_info=exc)
    return Response(envelope(ErrorCode.SERVER_ERROR, "Something went wrong on our side; it has been logged."), status=500)
