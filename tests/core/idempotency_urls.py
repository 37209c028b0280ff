"""An endpoint for the byte-for-byte replay test: echoes the request's JSON (its key order kept)
around a new shipment, with a Location header. Used through ``@pytest.mark.urls``."""

from django.urls import path
from rest_framework.response import Response

from core.api.views import APIView
from tests.testapp.models import Shipment


class EchoView(APIView):
    def post(self, request):
        shipment = Shipment.objects.create(owner=request.user, note="echo")
        body = {"shipment": {"status": shipment.status, "id": shipment.pk}, "echo": request.data}
        return Response(body, status=201, headers={"Location": f"/api/v1/test/shipments/{shipment.pk}/"})


urlpatterns = [path("echo/", EchoView.as_view())]
