"""Base classes every API view derives from, so each gets the same idempotency and errors."""

import re
from datetime import date

from axes.handlers.proxy import AxesProxyHandler
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, mixins, permissions, serializers, status, views, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.metadata import SimpleMetadata
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from core import idempotency
from core.api.schema import IDEMPOTENCY_DESCRIPTION, IDEMPOTENCY_KEY, query_parameters
from core.errors import DomainError, ErrorCode

# Every unsafe operation documents it (core.api.schema); naming it in extend_schema is optional.
IDEMPOTENCY_HEADER = OpenApiParameter("Idempotency-Key", IDEMPOTENCY_KEY, OpenApiParameter.HEADER, required=False,
                                      description=IDEMPOTENCY_DESCRIPTION)


def _query_field(schema: dict) -> serializers.Field:
    """A DRF field that reads one query value as ``schema`` declares it (DRF's messages, translated)."""
    kind = schema.get("type")
    limits = {k: schema[key] for k, key in (("min_value", "minimum"), ("max_value", "maximum")) if key in schema}
    if "enum" in schema:
        return serializers.ChoiceField(choices=schema["enum"])
    if kind == "integer":
        return serializers.IntegerField(**limits)
    if kind == "number":
        return serializers.DecimalField(max_digits=None, decimal_places=None, **limits)
    if kind == "boolean":
        return serializers.BooleanField()
    if kind == "string" and schema.get("format") == "date":
        return _DateField()
    if kind == "string" and "pattern" in schema:
        return serializers.RegexField(schema["pattern"], min_length=schema.get("minLength"),
                                      max_length=schema.get("maxLength"), allow_blank="minLength" not in schema,
                                      trim_whitespace=False)
    return serializers.CharField(min_length=schema.get("minLength"), max_length=schema.get("maxLength"),
                                 allow_blank="minLength" not in schema, trim_whitespace=False)


class _DateField(serializers.Field):
    def to_internal_value(self, data):
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", data):
                return date.fromisoformat(data)
        except ValueError:
            pass
        raise serializers.ValidationError(_("Enter a date as YYYY-MM-DD."))


def _query_value_errors(raw: str, schema: dict) -> list[str]:
    """Why ``raw`` (one query value as sent) does not match its declared ``schema`` (empty: it does)."""
    try:
        _query_field(schema).run_validation(raw)
    except serializers.ValidationError as exc:
        return [str(m) for m in exc.detail]
    return []


def check_query(view, request) -> None:
    """Refuse (400, naming each parameter) query parameters that do not match what the operation
    declares in the schema: a value of the wrong type, out of range or not among the choices, a
    scalar given several times, a required one missing. Undeclared parameters are ignored."""
    match = getattr(request._request, "resolver_match", None)
    method = "GET" if request.method == "HEAD" else request.method
    if match is None or method == "OPTIONS":
        return
    actions = getattr(view, "action_map", None)
    if (method.lower() not in actions) if actions is not None else not hasattr(view, method.lower()):
        return  # no handler: a 405 follows
    errors: dict[str, list[str]] = {}
    for parameter in query_parameters(match.func, method, match.route):
        name, schema = parameter["name"], parameter.get("schema") or {}
        values = request.query_params.getlist(name)
        if not values:
            if parameter.get("required"):
                errors[name] = [str(serializers.Field.default_error_messages["required"])]
            continue
        if schema.get("type") == "array":
            if parameter.get("explode") is False:
                values = [v for raw in values for v in raw.split(",")]
            problems = [m for v in values for m in _query_value_errors(v, schema.get("items") or {})]
        elif len(values) > 1:
            problems = [_("Give this parameter once.")]
        else:
            problems = _query_value_errors(values[0], schema)
        if problems:
            errors[name] = problems[:1]
    if errors:
        raise DomainError(ErrorCode.VALIDATION, _("Invalid query parameters."), errors)


class Metadata(SimpleMetadata):
    """OPTIONS: DRF's description, and the writable fields only where the view has one serializer
    (most of ours pick one per action and have no ``serializer_class``)."""

    def determine_actions(self, request, view):
        if getattr(view, "serializer_class", None) is None and "get_serializer_class" not in vars(type(view)):
            return {}
        return super().determine_actions(request, view)


class IdempotentMixin:
    """Honour ``Idempotency-Key`` on unsafe methods, and run the handler in one transaction."""

    # False where a failure must still leave a record (failed logins count towards the lockout).
    atomic = True
    metadata_class = Metadata

    def dispatch(self, request, *args, **kwargs):
        # DRF's APIView.dispatch, with the handler wrapped by the idempotency claim.
        self.args = args
        self.kwargs = kwargs
        if "Idempotency-Key" in request.headers and request.method not in permissions.SAFE_METHODS:
            request.body  # noqa: B018 - read now, before parsers consume the stream, for the body hash
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            handler = getattr(self, request.method.lower(), None) if request.method.lower() in self.http_method_names else None
            if handler is None:
                # 405 for a method this resource does not have, for anyone, before the permissions
                # (which may refuse unsafe methods) and the idempotency claim (which would store it).
                raise exceptions.MethodNotAllowed(request.method)
            self.initial(request, *args, **kwargs)
            response = self._run(request, handler, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - DRF's dispatch: every error becomes a response
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles first
        check_query(self, request)

    def _run(self, request, handler, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if request.method in permissions.SAFE_METHODS:
            return handler(request, *args, **kwargs)
        if not self.atomic:
            return handler(request, *args, **kwargs)
        if key is None or not request.user.is_authenticated:
            with transaction.atomic():
                return handler(request, *args, **kwargs)
        digest = idempotency.body_hash(request.method, request.path, request._request.body)
        claim = idempotency.claim(user=request.user, key=key, method=request.method, path=request.path, digest=digest)
        if claim.row is None:
            return claim.replay
        try:
            with transaction.atomic():
                response = handler(request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    # Rendered here, as it will be sent, so that a replay is the same bytes.
                    response = self.finalize_response(request, response, *args, **kwargs)
                    idempotency.complete(claim.row, response)
                else:
                    transaction.set_rollback(True)
        except BaseException:
            idempotency.release(claim.row)
            raise
        if not 200 <= response.status_code < 300:
            idempotency.release(claim.row)
        return response


class APIView(IdempotentMixin, views.APIView):
    pass


class GenericAPIView(IdempotentMixin, generics.GenericAPIView):
    pass


class GenericViewSet(IdempotentMixin, viewsets.GenericViewSet):
    pass


class ReadOnlyModelViewSet(IdempotentMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ModelViewSet(IdempotentMixin, viewsets.ModelViewSet):
    pass


# --- auth ---------------------------------------------------------------------


class TokenResponse(serializers.Serializer):
    token = serializers.CharField()


class TokenRequest(AuthTokenSerializer):
    """AuthTokenSerializer with the lengths Django's users and axes' records hold."""

    username = serializers.CharField(max_length=150, write_only=True)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"}, trim_whitespace=False,
                                     write_only=True)


@extend_schema(request=TokenRequest, responses=TokenResponse, tags=["auth"])
class ObtainTokenView(APIView):
    """Exchange a username and password for an API token (throttled, and locked after 10 failures)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
    atomic = False
    error_codes = {"post": [ErrorCode.LOGIN_LOCKED]}

    def post(self, request):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        # A username the serializer refuses anyway (not a string, NUL, too long) is not looked up.
        if isinstance(username, str) and username and "\x00" not in username and len(username) <= 150 \
                and AxesProxyHandler.is_locked(request._request, credentials={"username": username}):
            raise DomainError(ErrorCode.LOGIN_LOCKED, "Too many failed logins: try again in 15 minutes.")
        serializer = TokenRequest(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key}, status=status.HTTP_200_OK)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    country = serializers.CharField(allow_null=True)
    city = serializers.CharField()
    language = serializers.CharField()


@extend_schema(responses=MeSerializer, tags=["auth"])
class MeView(APIView):
    """The signed-in user with their roles."""

    def get(self, request):
        from core.selectors import me

        return Response(me(request.user))


__all__ = [
    "APIView", "GenericAPIView", "GenericViewSet", "ReadOnlyModelViewSet", "ModelViewSet", "mixins",
    "IDEMPOTENCY_HEADER", "DomainError", "extend_schema", "extend_schema_view",
]
