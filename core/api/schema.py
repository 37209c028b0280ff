"""The OpenAPI schema, told from the views themselves (``DEFAULT_SCHEMA_CLASS``).

drf-spectacular describes the 2xx answer; this :class:`AutoSchema` adds, to every operation, each
refusal the server can answer, with the error envelope (component ``Error``), derived once here
from what the view is:

* 400 when the operation reads a body or query parameters, or is unsafe (``Idempotency-Key``);
* 401 when the view authenticates (missing or invalid credentials; on a public operation only
  invalid ones), 403 when a permission may refuse or the session's CSRF check applies (unsafe
  methods), 404 on routes with path parameters and on cursor-paginated lists (an unknown cursor);
* 409 and 422 on unsafe operations (an ``Idempotency-Key`` in flight or reused with another body),
  415 when there is a body (another media type), 429 when the view is throttled, 503 on every
  operation (the database unreachable for a moment);
* plus the codes the view declares it can raise, per action or method::

      class OrderViewSet(GenericViewSet):
          error_codes = {"create": [ErrorCode.INSUFFICIENT_STOCK], "pay": [ErrorCode.INSUFFICIENT_FUNDS]}

  (keys: the viewset action or the lower-case HTTP method; ``"*"`` for every operation of the
  view), answered with their status from :data:`core.errors.STATUS`.

Operations anyone may call (every permission lets an anonymous request through) carry
``security: []``.

:func:`query_parameters` gives the query parameters an operation declares, which
:mod:`core.api.views` validates on every request: the schema is what the server enforces.
"""

from __future__ import annotations

import re
import threading
from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser
from drf_spectacular import openapi
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import ComponentRegistry, ResolvedComponent
from drf_spectacular.settings import spectacular_settings
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.settings import api_settings

from core.errors import STATUS, ErrorCode

ERROR_COMPONENT = "Error"

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal: a machine-readable code, a message in the reader's language, and the "
                   "messages per field (nested fields dotted: `lines.0.quantity`).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "enum": [code.value for code in ErrorCode]},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
            "required": ["code", "message", "fields"],
        },
    },
    "required": ["error"],
}

REASONS = {
    400: "The request is malformed or breaks a rule",
    401: "No valid credentials",
    403: "Not allowed",
    404: "Not found, or not visible to you",
    409: "Conflicts with the current state",
    415: "Unsupported media type",
    422: "Refused by a rule",
    429: "Too many requests",
    503: "A service this depends on is unavailable",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# DRF refuses NUL in every string (PostgreSQL cannot store it): said in the schema as this pattern.
NO_NUL = "^[^\\x00]*$"
# What str.strip() removes (DRF trims text before it checks blank and min_length) and the rest.
_SPACE, _TEXT = r"[\s\x1c-\x1f\x85]", r"[^\s\x1c-\x1f\x85\x00]"


def text_pattern(field: serializers.CharField) -> str:
    """The pattern of what ``field`` accepts: no NUL and, since DRF trims before it counts, enough
    characters other than spaces (``minLength`` alone would let "  " through)."""
    least = field.min_length or (0 if field.allow_blank else 1)
    if not field.trim_whitespace or least == 0:
        return NO_NUL
    if least == 1:
        return f"^{_SPACE}*{_TEXT}[^\\x00]*$"
    return f"^{_SPACE}*{_TEXT}[^\\x00]{{{least - 2},}}{_TEXT}{_SPACE}*$"


IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]([ -~]*[!-~])?$"}
IDEMPOTENCY_DESCRIPTION = ("Replays with the same key and body return the first response and do nothing more "
                           "(1 to 255 printable characters).")
FORM_MEDIA = ("application/x-www-form-urlencoded", "multipart/form-data")


class _Marker:
    """The object the Error component stands for (the registry compares objects)."""


_ERROR_OBJECT = _Marker()


def error_component(registry) -> dict:
    component = ResolvedComponent(name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, object=_ERROR_OBJECT,
                                  schema=ERROR_SCHEMA)
    registry.register_on_missing(component)
    return component.ref


def declared_codes(view, method: str) -> list[ErrorCode]:
    declared = getattr(view, "error_codes", None) or {}
    action = getattr(view, "action", None)
    codes = [*declared.get("*", ()), *declared.get(method.lower(), ())]
    if action:
        codes += declared.get(action, ())
    return [ErrorCode(c) for c in codes]


def is_public(view, method: str) -> bool:
    """Every permission of the view lets an anonymous ``method`` request through."""
    request = SimpleNamespace(method=method.upper(), user=AnonymousUser(), auth=None, query_params={}, data={})
    for permission in view.get_permissions():
        try:
            if not permission.has_permission(request, view):
                return False
        except Exception:  # noqa: BLE001 - a permission that needs more than an anonymous request: not public
            return False
    return True


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        public = is_public(self.view, self.method)
        if public:
            operation["security"] = []
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter["in"] == "query" and schema.get("type") == "string" and not schema.keys() & {
                    "enum", "pattern", "format"}:
                schema["pattern"] = NO_NUL
        self._request_body(operation)
        if self._idempotent() and not any(p["in"] == "header" and p["name"].lower() == "idempotency-key"
                                           for p in operation.get("parameters", [])):
            operation.setdefault("parameters", []).append({
                "in": "header", "name": "Idempotency-Key", "schema": dict(IDEMPOTENCY_KEY),
                "description": IDEMPOTENCY_DESCRIPTION})
        responses = operation["responses"]
        for status, codes in self.error_statuses(operation, public).items():
            if str(status) in responses:
                continue
            listed = ", ".join(f"`{c}`" for c in sorted(codes))
            responses[str(status)] = {
                "content": {"application/json": {"schema": error_component(self.registry)}},
                "description": f"{REASONS.get(status, 'Refused')}: {listed}.",
            }
            if status in (429, 503):
                responses[str(status)]["headers"] = {"Retry-After": {
                    "schema": {"type": "integer", "minimum": 0}, "description": "Seconds to wait before trying again."}}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_statuses(self, operation: dict, public: bool) -> dict[int, set[str]]:
        """HTTP status -> the error codes (or reasons) this operation can answer it with."""
        view, method = self.view, self.method
        out: dict[int, set[str]] = {}

        def add(status: int, code: str):
            out.setdefault(status, set()).add(str(code))

        params = operation.get("parameters", [])
        has_body = "requestBody" in operation
        unsafe = method in UNSAFE
        idempotent = self._idempotent()
        if has_body:
            add(400, ErrorCode.VALIDATION)
            add(400, ErrorCode.PARSE_ERROR)
            add(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE)
        if any(p["in"] == "query" for p in params):
            add(400, ErrorCode.VALIDATION)
        authenticators = view.get_authenticators()
        if authenticators:
            add(401, ErrorCode.AUTHENTICATION_FAILED)
            if not public:
                add(401, ErrorCode.NOT_AUTHENTICATED)
        if unsafe and any(isinstance(a, SessionAuthentication) for a in authenticators):
            add(403, ErrorCode.PERMISSION_DENIED)  # the session's CSRF check
        if not public and any(type(p) not in (permissions.AllowAny, permissions.IsAuthenticated)
                              for p in view.get_permissions()):
            add(403, ErrorCode.PERMISSION_DENIED)
        if any(p["in"] == "path" for p in params):
            add(404, ErrorCode.NOT_FOUND)
        if self._paginated(operation):
            add(404, ErrorCode.NOT_FOUND)
        if any(p["in"] == "query" and p["name"] == api_settings.URL_FORMAT_OVERRIDE for p in params):
            add(404, ErrorCode.NOT_FOUND)  # DRF answers an unknown ?format= with 404
        if idempotent:
            add(400, ErrorCode.IDEMPOTENCY_KEY_INVALID)
            add(409, ErrorCode.IDEMPOTENCY_KEY_IN_FLIGHT)
            add(422, ErrorCode.IDEMPOTENCY_KEY_REUSED)
        if view.get_throttles():
            add(429, ErrorCode.THROTTLED)
        # The database unreachable for a moment answers 503 with Retry-After (core.api.errors).
        add(503, ErrorCode.SERVICE_UNAVAILABLE)
        for code in declared_codes(view, method):
            add(STATUS.get(code, 400), code)
        out.pop(500, None)
        return out

    def _idempotent(self) -> bool:
        """An unsafe operation of core.api.views' base classes: it honours Idempotency-Key."""
        return self.method in UNSAFE and getattr(self.view, "atomic", False) and hasattr(self.view, "_run")

    def _request_body(self, operation: dict) -> None:
        """A body with required fields is itself required; one with nested objects or lists cannot be
        sent as a form, so only JSON is documented for it."""
        content = operation.get("requestBody", {}).get("content", {})
        if not content:
            return
        media = "application/json" if "application/json" in content else next(iter(content))
        schema = self._resolve(content[media].get("schema", {}))
        if schema.get("required"):
            operation["requestBody"]["required"] = True
        if media != "application/json" or not content.keys() & set(FORM_MEDIA):
            return
        nested = any(self._resolve(prop).get("type") in ("object", "array") or "allOf" in prop or "oneOf" in prop
                     for prop in schema.get("properties", {}).values())
        if nested or schema.get("type") != "object":
            for media in FORM_MEDIA:
                content.pop(media, None)

    def _resolve(self, schema: dict) -> dict:
        ref = schema.get("$ref", "")
        if not ref.startswith("#/components/schemas/"):
            return schema
        name = ref.rsplit("/", 1)[1]
        component = self.registry._components.get((name, ResolvedComponent.SCHEMA))
        return component.schema if component is not None and component.schema else schema

    def _map_basic_serializer(self, serializer, direction):
        outer, self._direction = getattr(self, "_direction", None), direction
        try:
            return super()._map_basic_serializer(serializer, direction)
        finally:
            self._direction = outer

    def _insert_field_validators(self, field, schema):
        """What DRF checks that drf-spectacular leaves out, in request bodies: list lengths, files that
        may not be empty, and the text patterns (no NUL; enough characters once trimmed)."""
        super()._insert_field_validators(field, schema)
        if getattr(self, "_direction", None) != "request" or getattr(field, "read_only", False) \
                or not isinstance(schema, dict):
            return
        if isinstance(field, serializers.ListSerializer | serializers.ListField | serializers.ManyRelatedField):
            if getattr(field, "min_length", None) is not None:
                schema["minItems"] = max(field.min_length, schema.get("minItems", 0))
            if getattr(field, "max_length", None) is not None:
                schema["maxItems"] = field.max_length
            if getattr(field, "allow_empty", True) is False:
                schema["minItems"] = max(1, schema.get("minItems", 0))
        elif isinstance(field, serializers.FileField) and not field.allow_empty_file:
            schema["minLength"] = max(1, schema.get("minLength", 0))  # DRF refuses an empty file
        elif (isinstance(field, serializers.CharField) and schema.get("type") == "string"
              and not schema.keys() & {"pattern", "format", "enum"}):
            schema["pattern"] = text_pattern(field)

    def _paginated(self, operation: dict) -> bool:
        return any(p["in"] == "query" and p["name"] == "cursor" for p in operation.get("parameters", []))

    # --- the query parameters the server enforces --------------------------------------------

    def query_parameters(self) -> list[dict]:
        """The operation's declared query parameters (OpenAPI parameter objects), as in the schema."""
        self.registry = ComponentRegistry()
        found = {}
        for parameter in [*self._get_filter_parameters(), *self._get_pagination_parameters(),
                          *self._get_format_parameters()]:
            found[parameter["name"], parameter["in"]] = parameter
        for key, parameter in self._process_override_parameters().items():
            if parameter is None:
                found.pop(key, None)
            else:
                found[key] = parameter
        return [p for (_, location), p in found.items() if location == "query"]


_QUERY_PARAMETERS: dict = {}
_ROUTE_VARIABLE = re.compile(r"<(?:\w+:)?(\w+)>")


# drf-spectacular's generator is not thread-safe: its extensions load their target classes lazily,
# and two threads of a fresh gthread worker loading one at once made one answer 500
# ("'NoneType' object has no attribute 'startswith'", found by tests/faults). One thread at a time
# builds an operation's parameters; once built they are read without the lock.
_QUERY_PARAMETERS_LOCK = threading.Lock()


def query_parameters(callback, method: str, route: str) -> list[dict]:
    """The query parameters the operation behind ``callback`` (a URL pattern's view) declares."""
    key = (callback, method)
    found = _QUERY_PARAMETERS.get(key)
    if found is not None:
        return found
    with _QUERY_PARAMETERS_LOCK:
        return _query_parameters_build(key, callback, method, route)


def _query_parameters_build(key, callback, method: str, route: str) -> list[dict]:
    if key not in _QUERY_PARAMETERS:
        path = "/" + _ROUTE_VARIABLE.sub(r"{\1}", route or "")
        found = []
        with GENERATOR_STATS.silence():  # the schema endpoint reports warnings; requests stay quiet
            view = SchemaGenerator().create_view(callback, method)
            view.request = spectacular_settings.GET_MOCK_REQUEST(method.upper(), path, view, None)
            schema = view.schema
            if isinstance(schema, AutoSchema):
                schema.method = method.upper()
                schema.path = path
                schema.path_regex = route
                schema.path_prefix = ""
                found = schema.query_parameters()
        _QUERY_PARAMETERS[key] = found
    return _QUERY_PARAMETERS[key]


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: an operation that creates (201 with an ``id``) links to
    the operations on what it created (``/orders/`` -> ``/orders/{id}/``, ``/orders/{id}/pay/``...),
    so that clients and schemathesis' stateful phase can follow them."""
    paths = result.get("paths", {})
    schemas = result.get("components", {}).get("schemas", {})

    def fields(node):
        while isinstance(node, dict) and "$ref" in node:
            node = schemas.get(node["$ref"].rsplit("/", 1)[1], {})
        return set((node or {}).get("properties", {}))

    for path, item in paths.items():
        for method, operation in item.items():
            created = operation.get("responses", {}).get("201", {}).get("content", {}).get("application/json")
            if method != "post" or created is None or "id" not in fields(created.get("schema")):
                continue
            prefix = path if path.endswith("/") else path + "/"
            links = {}
            for target, target_item in paths.items():
                match = re.fullmatch(re.escape(prefix) + r"\{(\w+)\}/(.*)", target)
                if not match or "{" in match.group(2):
                    continue
                for target_operation in target_item.values():
                    if "operationId" in target_operation:
                        links[target_operation["operationId"]] = {
                            "operationId": target_operation["operationId"],
                            "parameters": {match.group(1): "$response.body#/id"},
                        }
            if links:
                operation["responses"]["201"]["links"] = links
    return result
