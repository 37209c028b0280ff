from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("storefronts", views.StorefrontViewSet, basename="storefront")
urlpatterns = router.urls
