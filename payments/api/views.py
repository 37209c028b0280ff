"""Thin adapters: parse, call one service or selector, render."""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.response import Response

from core.api.pagination import CursorPagination
from core.api.views import IDEMPOTENCY_HEADER, APIView, GenericAPIView
from core.errors import DomainError, ErrorCode
from core.money import currencies

from .. import selectors, services
from ..access import owner_for
from ..models import Entry, Payout
from . import serializers as s

COMPANY_PARAM = OpenApiParameter("company", int, description="Act for this company (a member only); "
                                 "default: a seller's company, else your own wallet.")


# A company the caller is not a member of is a 404 (payments.access.owner_for).
COMPANY_ERRORS = {"*": [ErrorCode.NOT_FOUND]}
CURRENCY_PATH = OpenApiParameter("currency", str, OpenApiParameter.PATH, enum=list(settings.PAYMENTS_CURRENCIES),
                                 description="A wallet currency.")


def _owner(request):
    return owner_for(request.user, request.query_params.get("company"))


@extend_schema(parameters=[COMPANY_PARAM], responses=s.BalanceSerializer(many=True), tags=["payments"])
class WalletListView(APIView):
    """Balances per currency: total, held in escrow, available, and payouts in flight."""

    error_codes = COMPANY_ERRORS

    def get(self, request):
        return Response(s.BalanceSerializer(selectors.balances(owner=_owner(request)), many=True).data)


class StatementPagination(CursorPagination):
    ordering = "-id"


@extend_schema(parameters=[COMPANY_PARAM, CURRENCY_PATH], responses=s.EntrySerializer(many=True), tags=["payments"])
class StatementView(GenericAPIView):
    """The wallet's entries in one currency, newest first (cursor-paginated)."""

    error_codes = COMPANY_ERRORS

    pagination_class = StatementPagination
    serializer_class = s.EntrySerializer
    queryset = Entry.objects.none()  # for the schema; rows come from selectors.statement

    def get(self, request, currency):
        currency = services.check_wallet_currency(currency, "currency")
        page = self.paginate_queryset(selectors.statement(owner=_owner(request), currency=currency))
        return self.get_paginated_response(s.EntrySerializer(page, many=True).data)


@extend_schema(parameters=[COMPANY_PARAM, IDEMPOTENCY_HEADER], request=s.ConvertRequestSerializer,
               responses={200: s.ConvertResponseSerializer, 201: s.ConvertResponseSerializer}, tags=["payments"])
class ConvertView(APIView):
    """Quote (``quote_only``) or convert between two of your wallets at the quoted rate."""

    error_codes = {"*": [ErrorCode.NOT_FOUND, ErrorCode.UNKNOWN_CURRENCY, ErrorCode.INVALID_AMOUNT,
                         ErrorCode.INSUFFICIENT_FUNDS, ErrorCode.FX_RATE_MISSING]}

    def post(self, request):
        data = s.ConvertRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        amount, to_currency = data.validated_data["amount"], data.validated_data["to_currency"]
        if data.validated_data["quote_only"]:
            quote = services.conversion_quote(amount=amount, to_currency=to_currency)
            return Response({"quote": quote.to_api(), "transaction": None})
        key = request.headers.get("Idempotency-Key") or services.new_idempotency_key()
        result = services.wallet_convert(owner=_owner(request), amount=amount, to_currency=to_currency,
                                         idempotency_key=key, actor=request.user)
        return Response({"quote": result.quote.to_api(), "transaction": result.txn.id}, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[OpenApiParameter("base", str, enum=sorted(currencies()), description="Base currency (default USD).")],
               responses=s.FxRateSerializer(many=True), tags=["payments"])
class FxRateListView(APIView):
    """Current exchange rates against ``base``, each with its source and date."""

    permission_classes = [permissions.AllowAny]

    def get(self, request):
        rates = selectors.fx_rates(base=request.query_params.get("base", "USD"))
        return Response([r.to_api() for r in rates])


@extend_schema(parameters=[COMPANY_PARAM], tags=["payments"])
class PayoutListView(GenericAPIView):
    """A seller's payouts (GET) and a new payout request of available balance (POST)."""

    error_codes = {"*": [ErrorCode.NOT_FOUND], "post": [ErrorCode.INSUFFICIENT_FUNDS, ErrorCode.INVALID_AMOUNT]}

    serializer_class = s.PayoutSerializer
    queryset = Payout.objects.none()  # for the schema; rows come from selectors.payouts

    @extend_schema(responses=s.PayoutSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.payouts(owner=_owner(request)))
        return self.get_paginated_response(s.PayoutSerializer(page, many=True).data)

    @extend_schema(request=s.PayoutRequestSerializer, responses={201: s.PayoutSerializer},
                   parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        data = s.PayoutRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_request(owner=_owner(request), amount=data.validated_data["amount"], actor=request.user)
        return Response(s.PayoutSerializer(payout).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[COMPANY_PARAM], responses=s.PayoutSerializer, tags=["payments"])
class PayoutDetailView(APIView):
    error_codes = COMPANY_ERRORS

    def get(self, request, pk):
        payout = selectors.payouts(owner=_owner(request)).filter(pk=pk).first()
        if payout is None:
            raise DomainError(ErrorCode.NOT_FOUND, _("No such payout."))
        return Response(s.PayoutSerializer(payout).data)


class WebhookAck(s.serializers.Serializer):
    received = s.serializers.BooleanField()
    transaction = s.serializers.IntegerField(allow_null=True)


@extend_schema(request=None, responses=WebhookAck, tags=["payments"],
               description="Signed with HMAC-SHA256 over `{timestamp}.{body}`: headers X-Karavan-Timestamp and "
                           "X-Karavan-Signature (`v1=<hex>`). Stale (over 5 minutes) or replayed events are refused.")
class WebhookView(APIView):
    """A payment provider's event (top-ups)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []  # the HMAC signature is the authentication
    throttle_classes = []
    error_codes = {"post": [ErrorCode.WEBHOOK_SIGNATURE_INVALID, ErrorCode.WEBHOOK_STALE, ErrorCode.WEBHOOK_REPLAYED,
                            ErrorCode.PARSE_ERROR]}

    def post(self, request, provider):
        info = services.webhook_receive(provider=provider, headers=request.headers, body=request.body)
        return Response({"received": True, "transaction": info.id if info else None})
