from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.utils import timezone

from supportops.accounts.views import finance_home, home, workspace_home
from supportops.bot.views import try_question
from supportops.conversations.models import SweepDay
from supportops.knowledge.public import help_article
from supportops.lib.outage import DATABASE_UNAVAILABLE


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness, and whether the sweeper runs: when it last ran and what it queued again
    today (lost tasks it recovered; non-zero after a worker died or the broker restarted)."""
    try:
        today = SweepDay.objects.filter(day=timezone.localdate()).first()
    except DATABASE_UNAVAILABLE:  # the web process itself is alive: say so
        return JsonResponse({"status": "ok", "database": "unavailable"})
    return JsonResponse(
        {
            "status": "ok",
            "sweeper": {
                "last_run_at": today.last_run_at.isoformat()
                if today and today.last_run_at
                else None,
                "requeued_today": {
                    "bot_turns": today.bot_turns if today else 0,
                    "packets": today.packets if today else 0,
                    "emails": today.emails if today else 0,
                },
            },
        }
    )


# The Django admin signs in through allauth: the same form, rate limits, two-factor step and
# audit rows as the app; only staff accounts (operators) get past it.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

# A database outage that surfaced outside a view is a 503 too (see lib.outage).
handler500 = "supportops.lib.outage.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("help/<str:public_key>/<int:pk>/", help_article, name="help_article"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("w/<slug:workspace_slug>/", workspace_home, name="workspace-home"),
    path("w/<slug:workspace_slug>/finance/", finance_home, name="finance-home"),
    # "Try a question" belongs to the knowledge section but runs the bot's decision, which
    # the knowledge app may not import; the bot app serves it under the section's path.
    path("w/<slug:workspace_slug>/knowledge/try/", try_question, name="knowledge-try"),
    path("w/<slug:workspace_slug>/knowledge/", include("supportops.knowledge.urls")),
    path("w/<slug:workspace_slug>/bot/", include("supportops.bot.urls")),
    path("w/<slug:workspace_slug>/inbox/", include("supportops.inbox.urls")),
    path("w/<slug:workspace_slug>/analytics/", include("supportops.analytics.urls")),
    path("w/<slug:workspace_slug>/dashboards/", include("supportops.analytics.dashboard_urls")),
    path(
        "w/<slug:workspace_slug>/conversations/",
        include("supportops.analytics.conversation_urls"),
    ),
    path("w/<slug:workspace_slug>/exports/", include("supportops.exports.urls")),
    path("w/<slug:workspace_slug>/settings/widget/", include("supportops.widget.settings_urls")),
    path("w/<slug:workspace_slug>/settings/", include("supportops.accounts.urls")),
    path("w/<slug:workspace_slug>/rollout/", include("supportops.rollout.urls")),
    path("", include("supportops.widget.urls")),  # /widget.js, /widget/demo/, /api/widget/v1/
]

handler403 = "supportops.accounts.errors.permission_denied"
handler404 = "supportops.accounts.errors.page_not_found"
