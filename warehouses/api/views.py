"""The warehouses API: thin adapters over selectors and services."""

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.access import SELLER, STAFF, company_ids, get_visible, roles_of, visible
from core.api.pagination import CursorPagination
from core.api.views import GenericViewSet
from core.errors import ErrorCode, field_error

from .. import selectors, services
from ..access import may_operate
from ..models import Consignment, ConsignmentLine, Fulfilment, Movement, Transfer, Warehouse
from . import serializers as s

STOCK_PARAMS = [
    OpenApiParameter("q", {"type": "string", "maxLength": 100}, description="SKU code or name, or seller name (contains)"),
    OpenApiParameter("bond_status", str, enum=["bonded", "released"]),
    OpenApiParameter("low", bool, description="Only levels at or below the SKU's low-stock threshold"),
]
MOVEMENT_PARAMS = [
    OpenApiParameter("sku", {"type": "string", "maxLength": 64}, description="SKU code (prefix)"),
    OpenApiParameter("kind", str, enum=list(Movement.Kind.values)),
    OpenApiParameter("reference", {"type": "string", "maxLength": 64}, description="Reference (prefix)"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="YYYY-MM-DD"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="YYYY-MM-DD"),
]


class StockPagination(CursorPagination):
    ordering = "id"


class MovementPagination(CursorPagination):
    ordering = ("-at", "-id")


def _inside(user, code: str) -> Warehouse:
    """The warehouse whose contents ``user`` may read: its operators, sellers (their own SKUs), staff."""
    warehouse = get_visible(user, Warehouse.objects.all(), code=str(code).upper())
    roles = roles_of(user)
    if STAFF in roles or may_operate(user, warehouse.code) or SELLER in roles:
        return warehouse
    raise Http404


def _date(value, field):
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise field_error(field, _("Enter a date as YYYY-MM-DD.")) from None


class WarehouseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Warehouses; their stock, movements and adjustments for their operators (and sellers' own SKUs)."""

    serializer_class = s.WarehouseSerializer
    lookup_field = "code"
    pagination_class = None
    error_codes = {"adjustments": [ErrorCode.UNKNOWN_SKU, ErrorCode.INSUFFICIENT_STOCK, ErrorCode.CONFLICT]}

    def get_queryset(self):
        return selectors.warehouse_list(user=self.request.user)

    def get_object(self):
        return get_visible(self.request.user, self.get_queryset(), code=str(self.kwargs["code"]).upper())

    @extend_schema(parameters=STOCK_PARAMS, responses=s.StockLevelSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=StockPagination)
    def stock(self, request, code=None):
        warehouse = _inside(request.user, code)
        p = request.query_params
        qs = selectors.stock_levels(user=request.user, warehouse=warehouse, q=p.get("q", "")[:100],
                                    bond_status=p.get("bond_status", ""), low=p.get("low", "").lower() in {"1", "true", "yes", "on"})
        return self._page(qs.order_by("id"), s.StockLevelSerializer)

    @extend_schema(parameters=MOVEMENT_PARAMS, responses=s.MovementSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=MovementPagination)
    def movements(self, request, code=None):
        warehouse = _inside(request.user, code)
        p = request.query_params
        qs = selectors.movement_list(user=request.user, warehouse=warehouse, sku=p.get("sku", "")[:64],
                                     kind=p.get("kind", ""), reference=p.get("reference", "")[:64],
                                     date_from=_date(p.get("from"), "from"), date_to=_date(p.get("to"), "to"))
        return self._page(qs, s.MovementSerializer)

    @extend_schema(request=s.AdjustmentInput, responses={201: s.MovementSerializer})
    @action(detail=True, methods=["post"])
    def adjustments(self, request, code=None):
        if not may_operate(request.user, str(code).upper()):
            raise Http404
        data = s.AdjustmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        movement = services.stock_adjust(warehouse=code, sku_id=v["sku"], bond_status=v["bond_status"],
                                         quantity=v["quantity"], reason=v["reason"], note=v["note"], actor=request.user)
        return Response(s.MovementSerializer(movement).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.PickRowSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="pick-list")
    def pick_list(self, request, code=None):
        """Units to pick for the orders awaiting picking, by bin then SKU (operators of the warehouse)."""
        if not may_operate(request.user, str(code).upper()):
            raise Http404
        warehouse = get_visible(request.user, Warehouse.objects.all(), code=str(code).upper())
        return Response(s.PickRowSerializer(selectors.pick_list(warehouse=warehouse), many=True).data)

    def _page(self, qs, serializer):
        # The action's pagination_class (StockPagination, MovementPagination): the schema describes it.
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(serializer(page, many=True).data)


class ConsignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Inbound consignments: sellers create and submit; operators receive; everyone sees the journey."""

    serializer_class = s.ConsignmentSerializer
    ordering = "-id"
    error_codes = {
        "create": [ErrorCode.UNKNOWN_SKU, ErrorCode.UNKNOWN_WAREHOUSE, ErrorCode.CURRENCY_MISMATCH,
                   ErrorCode.PERMISSION_DENIED],
        "submit": [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED], "cancel": [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED],
        "receive": [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED, ErrorCode.CUSTOMS_NOT_CLEARED],
    }

    def get_queryset(self):
        qs = Consignment.objects.select_related("warehouse").prefetch_related(
            Prefetch("lines", ConsignmentLine.objects.select_related("sku")), "discrepancies")
        return visible(self.request.user, qs).order_by("-id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "detail": self.action != "list"}

    def _out(self, consignment, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=consignment.pk)
        return Response(s.ConsignmentSerializer(fresh, context={"detail": True}).data, status=code)

    @extend_schema(request=s.ConsignmentInput, responses={201: s.ConsignmentSerializer})
    def create(self, request):
        data = s.ConsignmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        companies = sorted(company_ids(request.user))
        company = v.get("company") or (companies[0] if len(companies) == 1 else None)
        if company is None:
            raise field_error("company", _("Name the company this consignment belongs to."))
        consignment = services.consignment_create(
            company_id=company, warehouse=v["warehouse"], origin=v["origin"], border_crossing=v["border_crossing"] or None,
            lines=[(ln["sku"], ln["quantity"], ln["declared_value"]) for ln in v["lines"]], note=v["note"], actor=request.user,
        )
        return self._out(consignment, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ConsignmentSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._out(services.consignment_submit(consignment=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses=s.ConsignmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._out(services.consignment_cancel(consignment=self.get_object(), actor=request.user))

    @extend_schema(request=s.ReceiveInput, responses=s.ConsignmentSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        consignment = self.get_object()
        data = s.ReceiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data["lines"]
        services.consignment_receive(consignment=consignment, counts={ln["line"]: ln["counted"] for ln in lines},
                                     notes={ln["line"]: ln["note"] for ln in lines}, actor=request.user)
        return self._out(consignment)


class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Transfers between warehouses: out of the source at once, into the destination on receipt."""

    serializer_class = s.TransferSerializer
    ordering = "-id"
    error_codes = {
        "create": [ErrorCode.UNKNOWN_SKU, ErrorCode.UNKNOWN_WAREHOUSE, ErrorCode.INSUFFICIENT_STOCK,
                   ErrorCode.PERMISSION_DENIED],
        "receive": [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED], "cancel": [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED],
    }

    def get_queryset(self):
        return visible(self.request.user, Transfer.objects.prefetch_related("lines")).order_by("-id")

    @extend_schema(request=s.TransferInput, responses={201: s.TransferSerializer})
    def create(self, request):
        data = s.TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        transfer = services.transfer_create(
            source=v["source"], destination=v["destination"], note=v["note"], actor=request.user,
            lines=[(ln["sku"], ln["bond_status"], ln["quantity"]) for ln in v["lines"]],
        )
        return Response(s.TransferSerializer(self.get_queryset().get(pk=transfer.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        transfer = services.transfer_receive(transfer=self.get_object(), actor=request.user)
        return Response(s.TransferSerializer(self.get_queryset().get(pk=transfer.pk)).data)

    @extend_schema(request=None, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        transfer = services.transfer_cancel(transfer=self.get_object(), actor=request.user)
        return Response(s.TransferSerializer(self.get_queryset().get(pk=transfer.pk)).data)


class FulfilmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Orders to pick, pack and ship in the warehouses the operator works in (another's is 404)."""

    serializer_class = s.FulfilmentSerializer
    ordering = "id"
    error_codes = {action: [ErrorCode.ILLEGAL_TRANSITION, ErrorCode.TRANSITION_NOT_PERMITTED, ErrorCode.CONFLICT, ErrorCode.CUSTOMS_NOT_CLEARED]
                   for action in ("pick", "pack", "ship")}

    def get_queryset(self):
        qs = visible(self.request.user, Fulfilment.objects.prefetch_related("parcels")).order_by("id")
        p = self.request.query_params
        if p.get("warehouse"):
            qs = qs.filter(warehouse_id=str(p["warehouse"]).upper()[:8])
        if p.get("status") in Fulfilment.Status.values:
            qs = qs.filter(status=p["status"])
        return qs

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "detail": self.action != "list"}

    def _out(self, fulfilment):
        fresh = visible(self.request.user, Fulfilment.objects.prefetch_related("parcels")).get(pk=fulfilment.pk)
        return Response(s.FulfilmentSerializer(fresh, context={"detail": True}).data)

    @extend_schema(parameters=[OpenApiParameter("warehouse", {"type": "string", "maxLength": 8}),
                               OpenApiParameter("status", str, enum=list(Fulfilment.Status.values))])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=s.FulfilmentSerializer)
    @action(detail=True, methods=["post"])
    def pick(self, request, pk=None):
        return self._out(services.fulfilment_pick(fulfilment=self.get_object(), actor=request.user))

    @extend_schema(request=s.PackInput, responses=s.FulfilmentSerializer)
    @action(detail=True, methods=["post"])
    def pack(self, request, pk=None):
        fulfilment = self.get_object()
        data = s.PackInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.parcel_pack(fulfilment=fulfilment, parcels=[dict(p) for p in data.validated_data["parcels"]],
                             actor=request.user)
        return self._out(fulfilment)

    @extend_schema(request=None, responses=s.FulfilmentSerializer)
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        return self._out(services.fulfilment_ship(fulfilment=self.get_object(), actor=request.user))
