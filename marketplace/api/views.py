from rest_framework import permissions

from core.api.views import ReadOnlyModelViewSet

from ..selectors import storefront_list
from .serializers import StorefrontSerializer


class StorefrontViewSet(ReadOnlyModelViewSet):
    """The national pavilions and the China-goods storefronts."""

    serializer_class = StorefrontSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = None
    lookup_field = "code"

    def get_queryset(self):
        return storefront_list(user=self.request.user)
