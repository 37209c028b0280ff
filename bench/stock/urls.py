"""The project's URLs plus the hello-world baseline view the stock benchmark compares against."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project


def hello(request):
    return HttpResponse("hello")


urlpatterns = [path("bench-hello/", hello), *project]
