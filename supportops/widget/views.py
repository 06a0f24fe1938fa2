"""The embed script at a stable address, and a demo shop page that embeds it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from supportops import flows
from supportops.accounts.demo import DEMO_SLUG
from supportops.accounts.selectors import membership_get, workspace_get_by_slug
from supportops.conversations.csat import SCORE_LABELS, CsatLinkInvalid, csat_link_read
from supportops.conversations.models import CsatRequest
from supportops.conversations.services import ConversationError, csat_submit

from .inbound import (
    SIGNATURE_HEADER,
    InboundRefused,
    inbound_authenticate,
    inbound_channel_get,
    inbound_parse,
)
from .security import customer_identity_signed

ASSET_TYPES = {
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}


@cache
def _asset_cached(name: str) -> bytes:
    return _asset_read(name)


def _asset_read(name: str) -> bytes:
    path = finders.find(f"widget/{name}")
    if not path:
        raise Http404(f"widget/{name} is missing from the static files")
    return Path(str(path)).read_bytes()


@require_GET
def widget_asset(request: HttpRequest, name: str) -> HttpResponse:
    """`/widget.js` and `/widget.css`: one address for every embedding site, short cache."""
    filename = f"widget.{name}"  # the route is widget.<name>
    if filename not in ASSET_TYPES:
        raise Http404
    body = _asset_read(filename) if settings.DEBUG else _asset_cached(filename)
    response = HttpResponse(body, content_type=ASSET_TYPES[filename])
    response["Cache-Control"] = "public, max-age=300"
    # Loaded by other websites, including ones that isolate themselves (COEP).
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def demo_signing_allowed(slug: str) -> bool:
    """Signing any customer id lets whoever opens the page act as that customer, so it is
    only for the demo workspace, whose customers are made up, on a development machine."""
    return settings.DEBUG and slug == DEMO_SLUG


@require_GET
def widget_demo(request: HttpRequest) -> HttpResponse:
    """A fictional shop page with the widget embedded: `?workspace=<slug>&customer=<id>`.

    The demo workspace is open to anyone; other workspaces only to their members.
    """
    slug = request.GET.get("workspace", DEMO_SLUG)
    if slug != DEMO_SLUG:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership_get(user=request.user, workspace_slug=slug)  # 404 for outsiders
    workspace = workspace_get_by_slug(slug=slug)
    if workspace is None or workspace.is_scratch:
        raise Http404("workspace not found")
    customer_id = request.GET.get("customer", "").strip()[:120]
    customer_name = request.GET.get("name", "").strip()[:200]
    signing = demo_signing_allowed(slug)
    identity: dict[str, object] = {}
    if customer_id and signing:
        identity = customer_identity_signed(
            workspace=workspace, external_id=customer_id, name=customer_name
        )
    return render(
        request,
        "widget/demo.html",
        {
            "workspace": workspace,
            "widget_src": request.build_absolute_uri("/widget.js"),
            "customer_id": customer_id if identity else "",
            "customer_name": customer_name if identity else "",
            "identity": identity,
            "signing_refused": bool(customer_id and not signing),
            "signing_allowed": signing,
        },
    )


# --- The email channel: inbound webhook and one-click rating links ------------------------------


@csrf_exempt  # server to server, authenticated by the workspace's inbound secret
@require_POST
def email_inbound(request: HttpRequest, public_key: str) -> JsonResponse:
    """An inbound email (see `inbound.py` for the format and answers)."""
    try:
        if len(request.body) > settings.EMAIL_INBOUND_MAX_BYTES:
            raise InboundRefused(413, "The email is too large.")
        channel = inbound_channel_get(public_key=public_key)
        inbound_authenticate(
            channel=channel,
            body=request.body,
            signature=request.headers.get(SIGNATURE_HEADER),
            authorization=request.headers.get("Authorization"),
        )
        email = inbound_parse(channel=channel, body=request.body)
        result = flows.do_email_inbound(workspace=channel.workspace, email=email)
    except InboundRefused as exc:
        return JsonResponse({"detail": exc.detail}, status=exc.status)
    except ConversationError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    return JsonResponse(
        {
            "conversation_id": result.conversation.pk,
            "message_id": result.message.pk,
            "created": result.created,
            "new_conversation": result.new_conversation,
        },
        status=201 if result.created else 200,
    )


@require_http_methods(["GET", "POST"])
def csat_rate(request: HttpRequest, token: str) -> HttpResponse:
    """A rating link from the resolve email: the click records the score (once: clicking it
    again changes nothing); the page offers a comment and, after another score was given,
    to change it."""
    try:
        link = csat_link_read(token)
    except CsatLinkInvalid as exc:
        return render(request, "widget/csat.html", {"error": str(exc)}, status=400)
    ask = (
        CsatRequest.objects.select_related("conversation__workspace")
        .filter(pk=link.request_id)
        .first()
    )
    if ask is None:
        raise Http404("no such rating request")
    conversation = ask.conversation
    context: dict[str, object] = {
        "workspace_name": conversation.workspace.name,
        "score": link.score,
        "label": SCORE_LABELS[link.score],
        "token": token,
    }
    if request.method == "POST":
        try:
            csat_submit(
                conversation=conversation,
                score=link.score,
                comment=request.POST.get("comment", ""),
                request=ask,
                keep_comment=request.POST.get("action") == "change",
            )
        except ConversationError as exc:
            return render(request, "widget/csat.html", {**context, "error": str(exc)}, status=400)
        return render(request, "widget/csat.html", {**context, "saved": True})
    if ask.answered_at is None:
        csat_submit(conversation=conversation, score=link.score, request=ask, keep_comment=True)
        return render(request, "widget/csat.html", {**context, "recorded": True})
    ask.refresh_from_db()
    if ask.score == link.score:
        return render(request, "widget/csat.html", {**context, "recorded": True})
    return render(request, "widget/csat.html", {**context, "earlier": ask.score})
