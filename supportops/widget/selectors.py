"""Reads for the public widget: everything is reached through the workspace's public key and,
for a conversation, through its token (see security.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation, CsatResponse, Message
from supportops.inbox.models import Handoff

from .models import WidgetSettings

DEFAULT_TITLE = WidgetSettings._meta.get_field("title").get_default()
DEFAULT_ACCENT = WidgetSettings._meta.get_field("accent_color").get_default()


@dataclass(frozen=True)
class WidgetContext:
    workspace: Workspace
    title: str = DEFAULT_TITLE
    accent_color: str = DEFAULT_ACCENT
    allowed_origins: list[str] = field(default_factory=list)


def widget_context_get(*, public_key: str) -> WidgetContext | None:
    """The workspace behind a widget key and its widget settings (defaults if never saved)."""
    if not public_key.startswith("pk_") or len(public_key) > 40:
        return None
    workspace = (
        Workspace.objects.select_related("widget_settings").filter(public_key=public_key).first()
    )
    if workspace is None:
        return None
    try:
        widget = workspace.widget_settings
    except WidgetSettings.DoesNotExist:
        return WidgetContext(workspace=workspace)
    return WidgetContext(
        workspace=workspace,
        title=widget.title or DEFAULT_TITLE,
        accent_color=widget.accent_color or DEFAULT_ACCENT,
        allowed_origins=[o for o in widget.allowed_origins or [] if isinstance(o, str)],
    )


def widget_settings_get(*, workspace: Workspace) -> WidgetSettings:
    """Saved settings, or unsaved defaults."""
    return WidgetSettings.objects.filter(workspace=workspace).first() or WidgetSettings(
        workspace=workspace
    )


def widget_messages_after(
    *, conversation: Conversation, after_id: int = 0, limit: int = 100
) -> list[Message]:
    """Messages newer than the browser's cursor, oldest first, with the agent for the label."""
    return list(
        Message.objects.filter(conversation=conversation, pk__gt=after_id)
        .select_related("agent")
        .order_by("pk")[:limit]
    )


def conversation_csat_score(*, conversation: Conversation) -> int | None:
    return (
        CsatResponse.objects.filter(conversation=conversation)
        .values_list("score", flat=True)
        .first()
    )


def conversation_person_first_name(*, conversation: Conversation) -> str:
    """The first name of the person the customer is chatting with: the agent the open handoff
    is assigned to, else the last agent who replied; "" if neither has a first name."""
    assignee = (
        Handoff.objects.filter(conversation=conversation, assignee__isnull=False)
        .exclude(status=Handoff.Status.RESOLVED)
        .order_by("-created_at")
        .values_list("assignee__first_name", flat=True)
        .first()
    )
    if assignee and assignee.strip():
        return assignee.strip()
    replied = (
        Message.objects.filter(conversation=conversation, author=Message.Author.AGENT)
        .exclude(agent=None)
        .order_by("-pk")
        .values_list("agent__first_name", flat=True)
        .first()
    )
    return (replied or "").strip()
