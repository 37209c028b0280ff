from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.access import BROKER, STAFF, get_visible, has_role
from core.api.views import IDEMPOTENCY_HEADER, APIView, ReadOnlyModelViewSet
from core.errors import DomainError, ErrorCode

from .. import selectors, services
from ..interface import QuoteLine
from ..models import Declaration
from . import serializers as s


@extend_schema(request=s.QuoteRequestSerializer, responses=s.QuoteResponseSerializer, parameters=[IDEMPOTENCY_HEADER],
               tags=["customs"])
class QuoteView(APIView):
    """A landed-cost quote: customs value, duty, VAT, excise and fees, line by line with their rules."""

    permission_classes = [permissions.AllowAny]
    error_codes = {"post": [ErrorCode.INVALID_HS_CODE, ErrorCode.UNKNOWN_COUNTRY, ErrorCode.UNKNOWN_CURRENCY,
                            ErrorCode.LIMIT_EXCEEDED, ErrorCode.TARIFF_RATE_MISSING, ErrorCode.REGIME_NOT_SUPPORTED,
                            ErrorCode.FX_RATE_MISSING, ErrorCode.PERMISSION_DENIED]}

    def post(self, request):
        data = s.QuoteRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        buyer = v["buyer"]
        if buyer is not None and buyer != request.user.pk and not (has_role(request.user, STAFF) or has_role(request.user, BROKER)):
            raise DomainError(ErrorCode.PERMISSION_DENIED, _("You may quote only your own allowance."),
                              {"buyer": [_("Not you.")]})
        quote = services.quote(
            origin_country=v["origin_country"], destination_country=v["destination_country"], currency=v["currency"],
            lines=[QuoteLine(hs_code=line["hs_code"], description=line["description"], quantity=line["quantity"],
                             unit_price=line["unit_price"], weight_kg=line["weight_kg"], origin_country=line["origin_country"])
                   for line in v["lines"]],
            shipping=v["shipping"], insurance=v["insurance"], date=v["date"], buyer_id=buyer,
            source_warehouse=v["source_warehouse"], channel=v["channel"],
        )
        return Response(quote.to_api())


FILTERS = [
    OpenApiParameter("status", str, enum=list(Declaration.Status.values)),
    OpenApiParameter("channel", str, enum=["green", "yellow", "red"]),
    OpenApiParameter("kind", str, enum=list(Declaration.Kind.values)),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="YYYY-MM-DD (created on or after)"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="YYYY-MM-DD (created on or before)"),
]


def _date(request, name):
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = parse_date(raw)
    except ValueError:
        value = None
    if value is None:
        raise DomainError(ErrorCode.VALIDATION, _("%(name)s must be a date (YYYY-MM-DD).") % {"name": name},
                          {name: [_("A date: YYYY-MM-DD.")]})
    return value


class DeclarationViewSet(ReadOnlyModelViewSet):
    """Customs declarations: the broker's queue, and each declarant's own."""

    ordering = "-created_at"
    error_codes = {
        "transition": [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED, ErrorCode.INVALID_AMOUNT],
        "submit": [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED, ErrorCode.REGIME_NOT_SUPPORTED],
        "documents": [ErrorCode.INVALID_DOCUMENT, ErrorCode.CONFLICT],
    }

    def get_serializer_class(self):
        return s.DeclarationDetailSerializer if self.action != "list" else s.DeclarationSerializer

    def get_queryset(self):
        p = self.request.query_params
        for name, choices in (("status", Declaration.Status.values), ("kind", Declaration.Kind.values),
                              ("channel", ["green", "yellow", "red"])):
            if p.get(name) and p[name] not in choices:
                raise DomainError(ErrorCode.VALIDATION, _("Unknown %(name)s %(value)s.") % {"name": name, "value": repr(p[name])},
                                  {name: [_("One of %(choices)s.") % {"choices": ", ".join(choices)}]})
        qs = selectors.declarations(self.request.user, status=p.get("status"), channel=p.get("channel"), kind=p.get("kind"),
                                    date_from=_date(self.request, "date_from"), date_to=_date(self.request, "date_to"))
        return selectors.with_details(qs) if self.action != "list" else qs

    @extend_schema(parameters=FILTERS, tags=["customs"])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(tags=["customs"])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=s.ActionSerializer, responses=s.DeclarationDetailSerializer, parameters=[IDEMPOTENCY_HEADER],
                   tags=["customs"])
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """A broker action: request_documents, inspect, assess, mark_inspected, mark_paid, release, reject (with a reason)."""
        declaration = get_visible(request.user, Declaration.objects.all(), pk=pk)
        data = s.ActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.declaration_act(declaration_id=declaration.pk, actor=request.user, **data.validated_data)
        return self._detail(declaration.pk)

    @extend_schema(request=None, responses=s.DeclarationDetailSerializer, parameters=[IDEMPOTENCY_HEADER], tags=["customs"])
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        declaration = get_visible(request.user, Declaration.objects.all(), pk=pk)
        services.declaration_submit(declaration_id=declaration.pk, actor=request.user)
        return self._detail(declaration.pk)

    @extend_schema(request={"multipart/form-data": s.DocumentUploadSerializer}, responses={201: s.DocumentSerializer},
                   parameters=[IDEMPOTENCY_HEADER], tags=["customs"])
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def documents(self, request, pk=None):
        """Attach a document: PDF, PNG or JPEG, up to the configured size."""
        declaration = get_visible(request.user, Declaration.objects.all(), pk=pk)
        data = s.DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        doc = services.document_upload(declaration_id=declaration.pk, actor=request.user, **data.validated_data)
        return Response(s.DocumentSerializer(doc).data, status=status.HTTP_201_CREATED)

    def _detail(self, pk):
        declaration = selectors.with_details(Declaration.objects.filter(pk=pk)).get()
        return Response(s.DeclarationDetailSerializer(declaration).data)
