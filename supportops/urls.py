from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from supportops.accounts.views import home
from supportops.knowledge.public import help_article


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("help/<str:public_key>/<int:pk>/", help_article, name="help_article"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("w/<slug:workspace_slug>/knowledge/", include("supportops.knowledge.urls")),
    path("w/<slug:workspace_slug>/bot/", include("supportops.bot.urls")),
    path("w/<slug:workspace_slug>/inbox/", include("supportops.inbox.urls")),
    path("", include("supportops.widget.urls")),  # /widget.js, /widget/demo/, /api/widget/v1/
]
