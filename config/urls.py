from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

api_v1 = [
    path("", include("core.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("customs.api.urls")),
    path("", include("warehouses.api.urls")),
    path("", include("marketplace.api.urls")),
    path("", include("orders.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("", include("core.urls")),
    path("wallet/", include("payments.urls")),
    path("customs/", include("customs.urls")),
    path("warehouses/", include("warehouses.urls")),
    path("", include("orders.urls")),
    path("", include("marketplace.urls")),
]

if settings.DEBUG or settings.DEMO:
    # The demo has no web server in front: media files (photos, documents) come from Django itself.
    urlpatterns += [re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]

handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
