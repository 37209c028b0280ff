from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("s/<slug:code>/", views.storefront, name="storefront"),
    path("p/<int:pk>/", views.product, name="product"),
    path("img/<path:name>", views.image_file, name="product-image-file"),
    path("seller/company/", views.seller_company, name="seller-company"),
    path("seller/products/", views.seller_products, name="seller-products"),
    path("seller/products/new/", views.seller_product_edit, name="seller-product-new"),
    path("seller/products/<int:pk>/", views.seller_product_edit, name="seller-product-edit"),
    path("seller/products/<int:pk>/photos/", views.seller_product_image, name="seller-product-image"),
    path("seller/products/<int:pk>/photos/<int:image_id>/delete/", views.seller_product_image_delete,
         name="seller-product-image-delete"),
    path("seller/products/<int:pk>/photos/arrange/", views.seller_product_photos_arrange, name="seller-product-photos-arrange"),
    path("seller/hs-codes/", views.seller_hs_codes, name="seller-hs-codes"),
]

# Catalogue imports (seller portal).
urlpatterns += [
    path("seller/imports/", views.seller_imports, name="seller-imports"),
    path("seller/imports/<int:pk>/", views.seller_import, name="seller-import"),
    path("seller/imports/<int:pk>/errors.csv", views.seller_import_errors, name="seller-import-errors"),
    path("seller/imports/template.<str:kind>", views.seller_import_template, name="seller-import-template"),
    path("seller/imports/export.<str:kind>", views.seller_catalogue_export, name="seller-catalogue-export"),
]
