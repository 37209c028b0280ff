"""The returns API: a buyer asks on a delivered order, the seller approves or refuses, the buyer
ships back, the operator receives; Celery refunds. Thin: :mod:`orders.returns` applies the rules."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.fields import MoneyField
from core.api.pagination import CursorPagination
from core.api.views import IDEMPOTENCY_HEADER, GenericViewSet
from core.errors import DomainError, ErrorCode
from core.money import Money
from core.states import history

from .. import returns
from ..models import Return
from ..states import ReturnReason, ReturnStatus


class ReturnLineInputSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, help_text="An order line id (the order's `lines[].id`)")
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class ReturnCreateSerializer(serializers.Serializer):
    lines = ReturnLineInputSerializer(many=True, allow_empty=False, max_length=50)
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ReturnRefuseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ReturnShipSerializer(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=64)


class ReceivedLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, help_text="The order line id")
    quantity = serializers.IntegerField(min_value=0, max_value=1000)
    condition = serializers.ChoiceField(choices=[("restock", "restock"), ("damaged", "damaged")])


class ReturnReceiveSerializer(serializers.Serializer):
    lines = ReceivedLineSerializer(many=True, allow_empty=False, max_length=100)


class ReturnLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(source="line_id")
    title = serializers.CharField(source="line.title")
    quantity = serializers.IntegerField()
    restocked = serializers.IntegerField()
    damaged = serializers.IntegerField()


class ReturnEventSerializer(serializers.Serializer):
    status = serializers.CharField(source="to_state")
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    place = serializers.CharField()
    note = serializers.CharField(source="reason")


class ReturnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField(source="order_id")
    status = serializers.ChoiceField(choices=ReturnStatus.choices)
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    comment = serializers.CharField()
    refusal_reason = serializers.CharField()
    tracking_number = serializers.CharField()
    lines = ReturnLineSerializer(many=True)
    refund_estimate = serializers.SerializerMethodField()
    refund = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    @extend_schema_field(MoneyField())
    def get_refund_estimate(self, ret):
        return Money(ret.estimate_minor, ret.order.currency_id).to_api()

    @extend_schema_field(MoneyField(allow_null=True))
    def get_refund(self, ret):
        return Money(ret.refund_minor, ret.order.currency_id).to_api() if ret.status == ReturnStatus.REFUNDED else None

    @extend_schema_field(ReturnEventSerializer(many=True))
    def get_events(self, ret):
        return ReturnEventSerializer(history(ret), many=True).data


class ReturnPagination(CursorPagination):
    ordering = "-id"
    page_size = 20


def _detail(ret: Return) -> dict:
    ret = Return.objects.select_related("order").prefetch_related("lines__line").get(pk=ret.pk)
    return ReturnSerializer(ret).data


@extend_schema(tags=["returns"])
class ReturnViewSet(GenericViewSet):
    """The caller's returns: a buyer's own, a seller's company's, an operator's warehouses'."""

    permission_classes = [permissions.IsAuthenticated]
    pagination_class = ReturnPagination
    queryset = Return.objects.none()
    error_codes = {action: [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED] for action in ("approve", "refuse", "ship", "receive")}

    def get_queryset(self):
        return returns.returns_visible(self.request.user).prefetch_related("lines__line")

    def _get(self, pk) -> Return:
        found = self.get_queryset().filter(pk=pk).first() if str(pk).isdigit() else None
        if found is None:
            raise DomainError(ErrorCode.NOT_FOUND, "Return not found.")
        return found

    @extend_schema(responses=ReturnSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ReturnSerializer(page, many=True).data)

    @extend_schema(responses=ReturnSerializer)
    def retrieve(self, request, pk=None):
        return Response(_detail(self._get(pk)))

    @extend_schema(request=None, responses=ReturnSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(_detail(returns.return_approve(ret=self._get(pk), actor=request.user)))

    @extend_schema(request=ReturnRefuseSerializer, responses=ReturnSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        data = ReturnRefuseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_detail(returns.return_refuse(ret=self._get(pk), reason=data.validated_data["reason"],
                                                      actor=request.user)))

    @extend_schema(request=ReturnShipSerializer, responses=ReturnSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        data = ReturnShipSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_detail(returns.return_ship(ret=self._get(pk), tracking_number=data.validated_data["tracking_number"],
                                                    actor=request.user)))

    @extend_schema(request=ReturnReceiveSerializer, responses=ReturnSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        data = ReturnReceiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = [dict(line) for line in data.validated_data["lines"]]
        return Response(_detail(returns.return_receive(ret=self._get(pk), lines=lines, actor=request.user)))


def order_returns_create(view, request, pk=None):
    """POST /api/v1/orders/{id}/returns/ (an action of the order viewset, defined here)."""
    from .. import selectors

    order = selectors.order_get(request.user, pk)
    data = ReturnCreateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    ret = returns.return_request(order=order, lines=[dict(line) for line in data.validated_data["lines"]],
                                 reason=data.validated_data["reason"], comment=data.validated_data["comment"],
                                 actor=request.user)
    return Response(_detail(ret), status=status.HTTP_201_CREATED)
