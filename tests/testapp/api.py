from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.access import visible
from core.api.views import ModelViewSet
from core.states import history, transition

from . import services
from .models import Shipment


class ShipmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shipment
        fields = ["id", "status", "note"]
        read_only_fields = ["status"]


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Shipment.Status.choices)


class ShipmentViewSet(ModelViewSet):
    serializer_class = ShipmentSerializer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return visible(self.request.user, Shipment.objects.order_by("-id"))

    def perform_create(self, serializer):
        serializer.instance = services.shipment_create(owner=self.request.user, **serializer.validated_data)

    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        shipment = self.get_object()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["to"] == Shipment.Status.SUBMITTED:
            services.shipment_submit(shipment=shipment, actor=request.user)
        else:
            transition(shipment, data.validated_data["to"], actor=request.user)
        events = [{"from": e.from_state, "to": e.to_state, "actor": e.actor_label} for e in history(shipment)]
        return Response({"id": shipment.pk, "status": shipment.status, "events": events})

    @action(detail=False, methods=["post"])
    def crash(self, request):
        Shipment.objects.create(owner=request.user, note="half-written")
        raise RuntimeError("boom")


router = SimpleRouter()
router.register("test/shipments", ShipmentViewSet, basename="test-shipment")
urlpatterns = router.urls
