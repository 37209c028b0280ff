from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import DeclarationViewSet, QuoteView

router = SimpleRouter()
router.register("customs/declarations", DeclarationViewSet, basename="customs-declaration")

urlpatterns = [
    path("customs/quote/", QuoteView.as_view(), name="customs-quote"),
    *router.urls,
]
