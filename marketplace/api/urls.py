from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("storefronts", views.StorefrontViewSet, basename="storefront")
router.register("products", views.ProductViewSet, basename="product")
router.register("imports", views.ImportViewSet, basename="import")

urlpatterns = router.urls
