from rest_framework.routers import SimpleRouter

from .returns import ReturnViewSet
from .views import OrderViewSet

router = SimpleRouter()
router.register("orders", OrderViewSet, basename="order")
router.register("returns", ReturnViewSet, basename="return")
urlpatterns = router.urls
