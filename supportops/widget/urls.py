"""Public widget routes: the API (every API view wrapped by the CORS check), the embed script
at a stable address, and the demo page. Included at the site root by supportops/urls.py."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views
from .api import api
from .security import widget_cors


def _with_cors(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    wrapped: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern = URLPattern(
                pattern.pattern, widget_cors(pattern.callback), pattern.default_args, pattern.name
            )
        wrapped.append(pattern)
    return wrapped


_api_patterns, _api_app_name, _api_namespace = api.urls

urlpatterns = [
    path("widget.<str:name>", views.widget_asset, name="widget-asset"),
    path("widget/demo/", views.widget_demo, name="widget-demo"),
    path("api/widget/v1/", (_with_cors(_api_patterns), _api_app_name, _api_namespace)),
    path("api/email/v1/inbound/<str:public_key>/", views.email_inbound, name="email-inbound"),
    path("csat/<str:token>/", views.csat_rate, name="csat-rate"),
]
