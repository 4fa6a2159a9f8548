"""The site's URLs plus `/__hello__/` (bench/yardstick_settings.py): used by benchmarks only."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from coworking.urls import urlpatterns as site_urlpatterns


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, world")


urlpatterns = [path("__hello__/", hello), *site_urlpatterns]
