from django.urls import path

from . import checkout_views, views

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
    # The buyer's cart, checkout and orders.
    path("cart/", checkout_views.cart_view, name="cart"),
    path("cart/add/", checkout_views.cart_add, name="cart-add"),
    path("cart/update/", checkout_views.cart_update, name="cart-update"),
    path("cart/clear/", checkout_views.cart_clear, name="cart-clear"),
    path("checkout/", checkout_views.checkout, name="checkout"),
    path("orders/", checkout_views.order_list, name="orders"),
    path("orders/<int:pk>/", checkout_views.order_detail, name="order-detail"),
    path("orders/<int:pk>/pay/", checkout_views.order_pay, name="order-pay"),
    path("orders/<int:pk>/cancel/", checkout_views.order_cancel, name="order-cancel"),
]
