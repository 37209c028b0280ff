"""The project's URLs (config.urls) plus the test app's API under /api/v1/test/ (tests/settings.py)."""

from django.urls import include, path

from config.urls import handler403, handler404, handler500  # noqa: F401 - the root URLconf names its error views
from config.urls import urlpatterns as project

urlpatterns = [path("api/v1/", include("tests.testapp.api")), *project]
