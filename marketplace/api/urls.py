from rest_framework.routers import SimpleRouter

from . import views
from .orders import OrderViewSet

router = SimpleRouter()
router.register("storefronts", views.StorefrontViewSet, basename="storefront")
router.register("products", views.ProductViewSet, basename="product")


router.register("orders", OrderViewSet, basename="order")
urlpatterns = router.urls
