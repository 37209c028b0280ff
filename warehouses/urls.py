from django.urls import path

from . import views

app_name = "warehouses"
urlpatterns = [
    path("", views.index, name="index"),
    path("consignments/", views.seller_consignments, name="seller_consignments"),
    path("consignments/new/", views.consignment_new, name="consignment_new"),
    path("consignments/route/", views.consignment_route, name="consignment_route"),
    path("consignments/skus/", views.consignment_skus, name="consignment_skus"),
    path("consignments/<int:pk>/", views.consignment_detail, name="consignment"),
    path("consignments/<int:pk>/<str:verb>/", views.consignment_action, name="consignment_action"),
    path("<str:code>/", views.stock, name="stock"),
    path("<str:code>/stock.csv", views.stock_csv, name="stock_csv"),
    path("<str:code>/movements/", views.movements, name="movements"),
    path("<str:code>/levels/<int:level_id>/adjust/", views.adjust, name="adjust"),
    path("<str:code>/levels/<int:level_id>/transfer/", views.transfer_new, name="transfer_new"),
    path("<str:code>/transfers/", views.transfers, name="transfers"),
    path("<str:code>/transfers/<int:pk>/<str:verb>/", views.transfer_action, name="transfer_action"),
    path("<str:code>/consignments/", views.consignments, name="consignments"),
    path("<str:code>/picking/", views.picking, name="picking"),
    path("<str:code>/fulfilments/<int:pk>/<str:verb>/", views.fulfilment_action, name="fulfilment_action"),
]
