from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("", views.wallet_home, name="home"),
    path("<str:currency>/", views.wallet, name="wallet"),
    path("<str:currency>/convert/", views.convert, name="convert"),
    path("<str:currency>/quote/", views.quote, name="quote"),
    path("<str:currency>/top-up/", views.top_up, name="top_up"),
    path("<str:currency>/payout/", views.payout, name="payout"),
]
