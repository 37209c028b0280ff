from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("consignments", views.ConsignmentViewSet, basename="consignment")
router.register("transfers", views.TransferViewSet, basename="transfer")
urlpatterns = router.urls
