from django.urls import path

from . import desk, views

urlpatterns = [
    path("cart/", views.cart_view, name="cart"),
    path("cart/add/", views.cart_add, name="cart-add"),
    path("cart/update/", views.cart_update, name="cart-update"),
    path("cart/clear/", views.cart_clear, name="cart-clear"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/quote/", views.checkout_quote, name="checkout-quote"),
    path("checkout/estimate/", views.product_estimate, name="product-estimate"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/pay/", views.order_pay, name="order-pay"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order-cancel"),
    path("orders/<int:pk>/return/", desk.return_create, name="order-return"),
    path("returns/<int:pk>/ship/", desk.return_ship, name="return-ship"),
    # The seller's order desk and returns to decide; the operator's returns to receive.
    path("seller/", desk.seller_dashboard, name="seller-dashboard"),
    path("seller/orders/", desk.seller_orders, name="seller-orders"),
    path("seller/orders/<int:pk>/", desk.seller_order, name="seller-order"),
    path("seller/returns/", desk.seller_returns, name="seller-returns"),
    path("seller/returns/<int:pk>/decide/", desk.seller_return_decide, name="seller-return-decide"),
    path("operator/returns/", desk.operator_returns, name="operator-returns"),
    path("operator/returns/<int:pk>/receive/", desk.operator_return_receive, name="operator-return-receive"),
]
