from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("consignments", views.ConsignmentViewSet, basename="consignment")
router.register("transfers", views.TransferViewSet, basename="transfer")
router.register("fulfilments", views.FulfilmentViewSet, basename="fulfilment")
urlpatterns = router.urls
