import logging

from core.api.errors import json_error
from core.errors import ErrorCode

log = logging.getLogger("karavan.api")

_CODES = {400: ErrorCode.VALIDATION, 401: ErrorCode.NOT_AUTHENTICATED, 403: ErrorCode.PERMISSION_DENIED,
          404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED, 429: ErrorCode.THROTTLED}


class ApiErrorMiddleware:
    """Under /api/, every error is the JSON envelope: no HTML page, even for URLs no view matched,
    CSRF failures or crashes outside DRF."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            code = _CODES.get(status, ErrorCode.SERVER_ERROR if status >= 500 else ErrorCode.VALIDATION)
            message = {404: "Not found.", 405: "Method not allowed.", 403: "Forbidden."}.get(status, "Request failed.")
            new = json_error(status, code, message)
            if "Allow" in response:
                new["Allow"] = response["Allow"]
            return new
        return response

    def process_exception(self, request, exception):
        from core.api.errors import DATABASE_DOWN
        from core.views import service_unavailable

        if isinstance(exception, DATABASE_DOWN):
            log.warning("database unavailable: %s", exception)
            return service_unavailable(request)
        if request.path.startswith("/api/"):
            log.exception("Unhandled error under /api/", exc_info=exception)
            return json_error(500, ErrorCode.SERVER_ERROR, "Something went wrong on our side; it has been logged.")
        return None

