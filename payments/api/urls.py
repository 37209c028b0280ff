from django.urls import path

from . import views

urlpatterns = [
    path("wallets/", views.WalletListView.as_view(), name="api-wallets"),
    path("wallets/convert/", views.ConvertView.as_view(), name="api-wallet-convert"),
    path("wallets/<str:currency>/statement/", views.StatementView.as_view(), name="api-wallet-statement"),
    path("fx-rates/", views.FxRateListView.as_view(), name="api-fx-rates"),
    path("payouts/", views.PayoutListView.as_view(), name="api-payouts"),
    path("payouts/<int:pk>/", views.PayoutDetailView.as_view(), name="api-payout"),
    path("payments/webhooks/<str:provider>/", views.WebhookView.as_view(), name="api-payment-webhook"),
]
