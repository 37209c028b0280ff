"""The orders API: place, pay, cancel, list, read with the timeline, the customs side and the road.

Thin: serializers check shapes, :mod:`orders.services` applies the rules.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.fields import MoneyField
from core.api.pagination import CursorPagination
from core.api.views import IDEMPOTENCY_HEADER, GenericViewSet
from core.errors import ErrorCode
from customs import selectors as customs_selectors
from customs.labels import localized_quote

from .. import selectors
from .. import services as orders
from ..models import Order
from ..states import OrderStatus, Road
from .returns import ReturnCreateSerializer, ReturnSerializer, order_returns_create

# --- input ---------------------------------------------------------------------------------


class ShipToSerializer(serializers.Serializer):
    country = serializers.CharField(min_length=2, max_length=2, help_text="ISO alpha-2; one of the storefront's markets")
    city = serializers.CharField(max_length=100)
    address = serializers.CharField(max_length=300)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=32)
    id_number = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="",
        help_text="The recipient's ID for customs where the destination needs it: CN resident ID (18 characters), "
                  "KZ IIN (12 digits), UZ PINFL (14 digits) or passport. Never returned in full.")


class OrderLineInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=orders.MAX_QUANTITY)


class OrderCreateSerializer(serializers.Serializer):
    storefront = serializers.CharField(max_length=16)
    lines = OrderLineInputSerializer(many=True, allow_empty=False, max_length=orders.MAX_LINES)
    ship_to = ShipToSerializer()


class OrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- output --------------------------------------------------------------------------------


class OrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id")
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.SerializerMethodField()
    line_total = serializers.SerializerMethodField()

    @extend_schema_field(MoneyField())
    def get_unit_price(self, line):
        return line.order.money(line.unit_price_minor).to_api()

    @extend_schema_field(MoneyField())
    def get_line_total(self, line):
        return line.order.money(line.line_total_minor).to_api()


class EventSerializer(serializers.Serializer):
    status = serializers.CharField()
    from_status = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    place = serializers.CharField()
    note = serializers.CharField()
    payload = serializers.JSONField()


class ShipToOutSerializer(ShipToSerializer):
    id_number = serializers.CharField(help_text="Masked: only the last four characters are shown")


class CustomsEventSerializer(serializers.Serializer):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    note = serializers.CharField()


class CustomsSerializer(serializers.Serializer):
    declaration = serializers.IntegerField()
    regime = serializers.CharField()
    status = serializers.CharField()
    channel = serializers.CharField(help_text="green, yellow or red once customs has assessed the risk")
    registration_number = serializers.CharField()
    duties = MoneyField()
    rejection_reason = serializers.CharField()
    events = CustomsEventSerializer(many=True)


class OrderListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    road = serializers.ChoiceField(choices=Road.choices, help_text="bond: customs at the warehouse before shipping; "
                                   "border: customs at the crossing after shipping; domestic: no customs")
    storefront = serializers.CharField(source="storefront_id")
    lines = serializers.SerializerMethodField()
    goods = MoneyField()
    shipping = MoneyField()
    taxes = MoneyField()
    total = MoneyField()
    currency = serializers.CharField(source="currency_id")
    landed_cost = serializers.JSONField(help_text="The customs quote (POST /api/v1/customs/quote/ shape) fixed at placement")
    ship_to = serializers.SerializerMethodField()
    tracking_numbers = serializers.ListField(child=serializers.CharField())
    placed_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, order):
        # The quote's rules and warnings are stored as messages: shown in the caller's language.
        data = super().to_representation(order)
        data["landed_cost"] = localized_quote(order.landed_cost, labels=False)
        return data

    @extend_schema_field(OrderLineSerializer(many=True))
    def get_lines(self, order):
        lines = list(order.lines.all())
        for line in lines:
            line.order = order  # the prefetched lines would each load their order again
        return OrderLineSerializer(lines, many=True).data

    @extend_schema_field(ShipToOutSerializer)
    def get_ship_to(self, order):
        return {"country": order.ship_to_country_id, "city": order.ship_to_city, "address": order.ship_to_address,
                "postal_code": order.ship_to_postal_code, "name": order.ship_to_name, "phone": order.ship_to_phone,
                "id_number": order.ship_to_id_masked}


class OrderSerializer(OrderListSerializer):
    events = serializers.SerializerMethodField()
    customs = serializers.SerializerMethodField()

    @extend_schema_field(CustomsSerializer(allow_null=True))
    def get_customs(self, order):
        found = customs_selectors.parcel_customs(order.reference)
        return CustomsSerializer(found).data if found else None

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, order):
        return EventSerializer(selectors.order_events(order), many=True).data


# --- views ---------------------------------------------------------------------------------


class OrderPagination(CursorPagination):
    ordering = "-id"
    page_size = 20


@extend_schema(tags=["orders"])
class OrderViewSet(GenericViewSet):
    """A buyer's orders; a seller reads the orders of its companies; staff reads all."""

    permission_classes = [permissions.IsAuthenticated]
    pagination_class = OrderPagination
    queryset = Order.objects.none()
    # What the services refuse with (documented in the schema with their status by core.api.schema).
    error_codes = {
        "create": [ErrorCode.INSUFFICIENT_STOCK, ErrorCode.STOREFRONT_NOT_ALLOWED, ErrorCode.UNKNOWN_COUNTRY,
                   ErrorCode.INVALID_HS_CODE, ErrorCode.LIMIT_EXCEEDED, ErrorCode.TARIFF_RATE_MISSING,
                   ErrorCode.PERMISSION_DENIED],
        "pay": [ErrorCode.INSUFFICIENT_FUNDS, ErrorCode.CURRENCY_MISMATCH, ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED],
        "cancel": [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED],
        "returns": [ErrorCode.RETURN_WINDOW_CLOSED, ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED],
    }

    def get_queryset(self):
        return selectors.order_queryset(self.request.user)

    def _detail(self, pk) -> dict:
        return OrderSerializer(selectors.order_get(self.request.user, pk)).data

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=OrderStatus.values)],
                   responses=OrderListSerializer(many=True))
    def list(self, request):
        qs = self.get_queryset()
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(OrderListSerializer(page, many=True).data)

    @extend_schema(responses=OrderSerializer)
    def retrieve(self, request, pk=None):
        return Response(self._detail(pk))

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderSerializer}, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request):
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = orders.order_place(buyer=request.user, storefront=data["storefront"],
                                   lines=[dict(line) for line in data["lines"]], ship_to=dict(data["ship_to"]))
        return Response(self._detail(order.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OrderSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        order = selectors.order_get(request.user, pk)
        orders.order_pay(order=order, actor=request.user)
        return Response(self._detail(order.pk))

    @extend_schema(request=OrderCancelSerializer, responses=OrderSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = selectors.order_get(request.user, pk)
        serializer = OrderCancelSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        orders.order_cancel(order=order, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(self._detail(order.pk))

    @extend_schema(request=ReturnCreateSerializer, responses={201: ReturnSerializer}, parameters=[IDEMPOTENCY_HEADER],
                   tags=["returns"])
    @action(detail=True, methods=["post"], url_path="returns")
    def returns(self, request, pk=None):
        """Ask to return delivered units: 201 with the refund estimate; 409 ``return_window_closed``
        past the window; 400 for more units than were delivered."""
        return order_returns_create(self, request, pk)
