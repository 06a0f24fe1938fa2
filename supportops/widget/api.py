"""The public widget API (django-ninja), mounted at /api/widget/v1/.

Every path starts with the workspace's public key; `security.widget_cors` checks the calling
website against the workspace's allowed origins before any of these functions runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import Field, Header, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from redis.exceptions import RedisError

from supportops import flows
from supportops.conversations import typing
from supportops.conversations.followup import (
    conversation_customer_seen,
    conversation_followup_email_set,
    email_masked,
)
from supportops.conversations.models import Conversation, Message
from supportops.conversations.services import (
    MAX_COMMENT_CHARS,
    MAX_MESSAGE_CHARS,
    ConversationError,
    csat_submit,
)
from supportops.inbox.selectors import wait_estimate
from supportops.lib.outage import DATABASE_UNAVAILABLE, RETRY_AFTER_S, UNAVAILABLE_DETAIL
from supportops.rollout.services import customer_identity

from .security import (
    IDEMPOTENCY_HEADER,
    TOKEN_HEADER,
    ConversationToken,
    PendingChat,
    PendingChatRefused,
    RateLimited,
    client_network,
    origin_allowed,
    pending_chat_expires_at,
    pending_chat_read,
    pending_chat_sign,
    widget_context,
    widget_ip_limit,
    widget_rate_limit,
)
from .selectors import (
    conversation_csat_score,
    conversation_person_first_name,
    widget_messages_after,
)
from .services import (
    IdentityRefused,
    widget_refusal_audit,
    widget_visitor_check,
)

PAGE_SIZE = 100
RETRY_AFTER = {
    "description": "seconds to wait before trying again",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
    "required": True,
}


class WidgetAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """Every 429 and 503 answer carries `Retry-After`: say so in the schema (ninja's
        response declarations have no headers)."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if str(status) in ("429", "503"):
                        response.setdefault("headers", {})["Retry-After"] = RETRY_AFTER
        return schema


api = WidgetAPI(
    title="SupportOps widget API",
    version="1",
    description=(
        "What the embeddable chat widget speaks; usable by any client. Paths start with the "
        "workspace's public key (`pk_...`). Browsers may call it only from the workspace's "
        "allowed origins. Starting a chat stores nothing: it returns what to show (the "
        "greeting) and a signed `pending_token` that expires; the chat's first message (or "
        "'Talk to a person') sends it back, creates the conversation and returns the "
        f"conversation's token. Every later call sends that in the `{TOKEN_HEADER}` header "
        "(a wrong token is answered like an unknown conversation: 404). A pending token that "
        "is not valid here is 404, an expired one 410: start again. A conversation token "
        "expires some hours after the conversation began; once the chat has "
        "ended it only reads the chat, rates it or reopens it with a message, for a short "
        'grace period. Errors are `{"detail": "..."}`; over a rate limit the answer '
        "is 429 with `Retry-After`; while the service is briefly unavailable (its database "
        "is restarting) it is 503 with `Retry-After`: nothing was stored, so send the same "
        "request again (a message with the same idempotency key is never stored twice)."
    ),
    urls_namespace="widget_api",
    docs_url="/docs",
)
conversation_token = ConversationToken()
# What an ended chat still shows (its transcript, the rating, a message that reopens it, and
# a repeated "End chat", which changes nothing).
ended_chat_token = ConversationToken(after_end=True)


# --- Schemas -------------------------------------------------------------------------------


class Error(Schema):
    detail: str


class WidgetConfigOut(Schema):
    title: str = Field(description="shown in the panel header")
    accent_color: str = Field(description="#rrggbb")
    workspace_name: str


class StartIn(Schema):
    visitor_id: str = Field(
        "",
        description="random id the browser keeps for an anonymous visitor (16-64 characters)",
    )
    customer_id: str = Field(
        "", description="the host site's id of a signed-in customer (needs `signature`)"
    )
    signature: str = Field(
        "",
        description="hex HMAC-SHA256, with the workspace secret, of `customer_id`, "
        "`customer_email`, `customer_name` and `signature_expires` joined by newlines",
    )
    signature_expires: int | None = Field(
        None, description="Unix time (seconds) after which the signature is refused"
    )
    customer_name: str = Field("", description="signed: part of `signature`")
    customer_email: str = Field("", description="signed: part of `signature`")


class SourceOut(Schema):
    title: str
    url: str | None = Field(None, description="http(s) link to the article, if it has one")
    article_id: int | str | None = None


class MessageOut(Schema):
    id: int = Field(description="increasing; use the last one as the `after` cursor")
    author: str = Field(description="customer, bot, agent or system")
    author_label: str = Field(
        description="how to label the author, e.g. 'AI assistant', or for a person of the "
        "team 'Maren from Tidewell' (their first name and the workspace's name)"
    )
    author_name: str | None = Field(
        None, description="an agent's message: the agent's first name, if known"
    )
    kind: str = Field(description="text, greeting, answer, handoff or csat_request")
    text: str = Field(description="plain text; render it as text, never as HTML")
    sources: list[SourceOut]
    client_key: str = Field(description="the idempotency key this message was posted with")
    created_at: datetime


class WaitOut(Schema):
    open_now: bool = Field(
        description="false when nobody can answer now: outside business hours or no agent "
        "online; then offer to answer by email"
    )
    agents_online: int
    position: int = Field(description="the customer's place in line; 1 is next")
    estimated_minutes: int | None = Field(
        description="rough minutes until a person joins; null when `open_now` is false"
    )
    reopens_at: datetime | None = Field(
        description="when business hours start again, if the team is closed now"
    )


class StateFields(Schema):
    status: str = Field(description="bot, handed_off, with_agent or resolved")
    person_name: str | None = Field(
        description="while with a person (status with_agent): the first name of the agent "
        "assigned to the conversation, or of the last one who replied; null if unknown"
    )
    person_label: str | None = Field(
        description="while with a person: how to name them, e.g. 'Maren from Tidewell' (the "
        "workspace's name), or 'Tidewell support team' without a first name"
    )
    typing: str | None = Field(
        description="while someone from the team is typing a reply (a ping in the last "
        f"{typing.TYPING_TTL_S} s): what to show, e.g. 'Maren is typing…'; null otherwise"
    )
    solved: bool | None = Field(description="the answer to 'Did that solve it?', if given")
    csat_score: int | None
    wait: WaitOut | None = Field(
        description="live queue figures while waiting for a person (status handed_off)"
    )
    followup_email: str | None = Field(
        description="the address replies are emailed to, masked (a***@example.com), if given"
    )
    known_email: str | None = Field(
        description="while waiting and before an address is given: the signed-in customer's "
        "own address, masked, which `email` with `use_known` uses without asking for it"
    )


class ConversationOut(StateFields):
    id: int
    messages: list[MessageOut]
    cursor: int = Field(description="the newest message id seen; send it as `after` next time")
    more: bool = Field(description="true if more messages wait after `cursor`")


class StartedOut(ConversationOut):
    token: str = Field(description=f"send it as `{TOKEN_HEADER}` on every later call")


class OpeningMessageOut(Schema):
    author: str = Field(description="bot (the AI assistant's greeting) or system")
    author_label: str
    kind: str = Field(description="greeting, or text (a person will reply)")
    text: str = Field(description="plain text; render it as text, never as HTML")


class PendingChatOut(Schema):
    pending_token: str = Field(
        description="send it with the chat's first message (`/pending/messages`) or with "
        "'Talk to a person' (`/pending/handoff`); nothing is stored until then"
    )
    expires_at: datetime = Field(description="after this the token is refused (410)")
    status: str = Field(
        description="bot (the AI assistant answers) or handed_off (a person will reply)"
    )
    messages: list[OpeningMessageOut] = Field(
        description="what to show now: the assistant's greeting (it says it is an AI), or "
        "that a person will reply; stored as the conversation's first message once it begins"
    )
    wait: WaitOut | None = Field(
        description="with status handed_off: live queue figures for someone joining now"
    )


class FirstMessageOut(MessageOut):
    conversation: StartedOut = Field(
        description="the conversation the message began: its token and its messages so far"
    )


class MessageIn(Schema):
    text: str = Field(description=f"1 to {MAX_MESSAGE_CHARS} characters of plain text")
    client_key: str = Field(
        "",
        description=f"idempotency key (or the `{IDEMPOTENCY_HEADER}` header): a retry with "
        "the same key returns the stored message with 200 instead of posting it twice",
    )


class PendingIn(Schema):
    pending_token: str = Field(description="from the start")


class PendingMessageIn(MessageIn):
    pending_token: str = Field(description="from the start")


class FeedbackIn(Schema):
    solved: bool


class CsatIn(Schema):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", description=f"optional, up to {MAX_COMMENT_CHARS} characters")


class StateOut(StateFields):
    pass


class EmailIn(Schema):
    email: str = Field("", description="where to send the team's answer")
    use_known: bool = Field(
        False,
        description="send it to the signed-in customer's own address (`known_email`) "
        "instead of `email`",
    )
    page_url: str = Field(
        "", description="the page the chat is on, linked in the email (an allowed origin only)"
    )


# --- Presenting ----------------------------------------------------------------------------

AUTHOR_LABELS: dict[str, str] = {
    Message.Author.CUSTOMER: "You",
    Message.Author.BOT: "AI assistant",
    Message.Author.SYSTEM: "Support",
}


def person_label(first_name: str, company: str) -> str:
    """ "Maren from Tidewell"; without a first name, "Tidewell support team"."""
    first_name, company = (first_name or "").strip(), (company or "").strip()
    if first_name:
        return f"{first_name} from {company}" if company else first_name
    return f"{company} support team" if company else "Support team"


def _agent_first_name(message: Message) -> str:
    return (message.agent.first_name if message.agent else "").strip()


def _author_label(message: Message, company: str) -> str:
    if message.author == Message.Author.AGENT:
        return person_label(_agent_first_name(message), company)
    return AUTHOR_LABELS.get(message.author, "Support")


def _web_url(value: Any, base: str) -> str | None:
    """An absolute http(s) link; the app's own pages (`/help/...`) are made absolute, since
    the widget shows them on another website."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if value.startswith("/") and not value.startswith("//"):
        value = urljoin(base, value)
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def _sources(message: Message, base: str) -> list[dict[str, Any]]:
    out = []
    for source in message.sources or []:
        if not isinstance(source, dict) or not source.get("title"):
            continue
        article_id = source.get("article_id")
        out.append(
            {
                "title": str(source["title"]),
                "url": _web_url(source.get("url"), base),
                "article_id": article_id if isinstance(article_id, int | str) else None,
            }
        )
    return out


def _message(message: Message, base: str, company: str) -> dict[str, Any]:
    """One message as the widget shows it (`company`: the workspace's name, for agents)."""
    return {
        "id": message.pk,
        "author": message.author,
        "author_label": _author_label(message, company),
        "author_name": (_agent_first_name(message) or None)
        if message.author == Message.Author.AGENT
        else None,
        "kind": message.kind,
        "text": message.text,
        "sources": _sources(message, base),
        "client_key": message.client_key,
        "created_at": message.created_at,
    }


def _state(conversation: Conversation) -> dict[str, Any]:
    resolved = conversation.status == Conversation.Status.RESOLVED
    waiting = conversation.status == Conversation.Status.HANDED_OFF
    email = conversation.followup_email
    with_person = conversation.status == Conversation.Status.WITH_AGENT
    person = conversation_person_first_name(conversation=conversation) if with_person else ""
    company = conversation.workspace.name
    return {
        "status": conversation.status,
        "person_name": person or None,
        "person_label": person_label(person, company) if with_person else None,
        "typing": _agent_typing(conversation) if with_person or waiting else None,
        "solved": conversation.solved,
        # Only a finished conversation can have been rated; skip the query while chatting.
        "csat_score": conversation_csat_score(conversation=conversation) if resolved else None,
        "wait": _wait(conversation) if waiting else None,
        "followup_email": email_masked(email) if email else None,
        "known_email": _known_email(conversation) if waiting and not email else None,
    }


def _agent_typing(conversation: Conversation) -> str | None:
    name = typing.typing_now(conversation_id=conversation.pk, who=typing.AGENT)
    if name is None:
        return None
    return f"{name} is typing\u2026" if name else "Someone from the team is typing\u2026"


def _known_email(conversation: Conversation) -> str | None:
    """Only an address the host site signed: an anonymous visitor's is never assumed."""
    customer = conversation.customer
    return email_masked(customer.email) if customer.is_verified and customer.email else None


def _wait(conversation: Conversation) -> dict[str, Any]:
    return wait_estimate(workspace=conversation.workspace, conversation=conversation)


def _page_url(request: HttpRequest, value: str, allowed: list[str]) -> str:
    """The host page, kept only if it is on one of the workspace's own sites."""
    value = (value or "").strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if len(value) > 500 or parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    origin = f"{parts.scheme}://{parts.netloc}"
    return value if origin_allowed(request=request, origin=origin, allowed=allowed) else ""


def _conversation(request: HttpRequest, conversation: Conversation, after: int) -> dict[str, Any]:
    rows = widget_messages_after(conversation=conversation, after_id=after, limit=PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return {
        "id": conversation.pk,
        **_state(conversation),
        "messages": [_message(m, _base(request), conversation.workspace.name) for m in rows],
        "cursor": rows[-1].pk if rows else after,
        "more": more,
    }


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _token_conversation(
    request: HttpRequest, *, write: bool = False, message: bool = False
) -> Conversation:
    """The conversation the visitor's token opened, once the visitor is within the limits."""
    conversation: Conversation = request.auth  # type: ignore[attr-defined]
    widget_rate_limit(
        context=widget_context(request),
        visitor=customer_identity(conversation.customer),
        write=write,
        message=message,
        request=request,
    )
    return conversation


def _refresh(conversation: Conversation) -> Conversation:
    conversation.refresh_from_db(fields=["status", "solved", "followup_email"])
    return conversation


# --- Errors: always {"detail": "..."} ------------------------------------------------------


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": _validation_message(exc)}, status=400)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors[:3]:
        loc = [str(p) for p in error.get("loc", ())]
        where = loc[0] if loc else ""
        # ninja puts the parameter's own name after the location: body -> payload -> field
        field = ".".join(loc[2:] if where == "body" else loc[1:])
        msg = str(error.get("msg", "is not valid"))
        if where == "body" and not field:
            parts.append("The request body must be a JSON object.")
        else:
            parts.append(f"{field or where}: {msg}")
    return " ".join(p if p.endswith(".") else p + "." for p in parts)


@api.exception_handler(AuthenticationError)
def _no_conversation(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    # A wrong token, someone else's token and a made-up id all look the same.
    return api.create_response(request, {"detail": "Conversation not found."}, status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = str(exc)
    if detail.startswith("Cannot parse request body"):
        detail = "The request body is not valid JSON."
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(ConversationError)
def _bad_input(request: HttpRequest, exc: ConversationError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(IdentityRefused)
def _identity_refused(request: HttpRequest, exc: IdentityRefused) -> HttpResponse:
    return api.create_response(request, {"detail": "The signature does not match."}, status=403)


@api.exception_handler(PendingChatRefused)
def _pending_refused(request: HttpRequest, exc: PendingChatRefused) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    details = {"limit": exc.what}
    if exc.scope == "ip":  # one row a minute per client, not one for all of them
        details["client"] = client_network(request)
    widget_refusal_audit(
        workspace=widget_context(request).workspace,
        action="widget.rate_limited",
        details=details,
        request=request,
    )
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _database_unavailable(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    response = api.create_response(request, {"detail": UNAVAILABLE_DETAIL}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


for _error in DATABASE_UNAVAILABLE:
    api.add_exception_handler(_error, _database_unavailable)
# Redis restarting where a request needs it (the audit throttle of a refusal): the same
# "try again shortly". Queueing a task never gets here (lib.queueing), nor do the rate limits.
api.add_exception_handler(RedisError, _database_unavailable)


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": "The request body is too large."}, status=413)


# --- Endpoints -----------------------------------------------------------------------------

ERRORS: dict[int, type[Schema]] = {
    400: Error,
    403: Error,
    404: Error,
    429: Error,
    503: Error,
}
BODY_ERRORS: dict[int, type[Schema]] = {**ERRORS, 413: Error}  # operations that read a body
BASE = "/workspaces/{key}"
CONVERSATION = BASE + "/conversations/{conversation_id}"


@api.get(
    BASE + "/config",
    response={200: WidgetConfigOut, 403: Error, 404: Error, 503: Error},
    summary="Widget appearance",
    tags=["widget"],
)
def config_get(request: HttpRequest, key: str, response: HttpResponse) -> dict[str, Any]:
    context = widget_context(request)
    response["Cache-Control"] = "public, max-age=300"
    return {
        "title": context.title,
        "accent_color": context.accent_color,
        "workspace_name": context.workspace.name,
    }


@api.post(
    BASE + "/conversations",
    response={200: PendingChatOut, **BODY_ERRORS},
    summary="Start a chat",
    description="Identifies the visitor (anonymous `visitor_id`, or `customer_id` with its "
    "signature) and returns what to show (the AI assistant's greeting, or that a person will "
    "reply) with a `pending_token`. Stores nothing: the conversation begins with the first "
    "message (`/pending/messages`) or 'Talk to a person' (`/pending/handoff`).",
    tags=["conversations"],
)
def conversation_create(request: HttpRequest, key: str, payload: StartIn) -> dict[str, Any]:
    context = widget_context(request)
    # The client's own limits first, before any other work: a flood of starts from one
    # address is refused cheaply and never uses up the workspace's budget.
    widget_ip_limit(request=request, context=context, start=True)
    widget_rate_limit(context=context, write=True)
    visitor = widget_visitor_check(
        workspace=context.workspace,
        visitor_id=payload.visitor_id,
        customer_id=payload.customer_id,
        signature=payload.signature,
        name=payload.customer_name,
        email=payload.customer_email,
        signature_expires=payload.signature_expires,
        request=request,
    )
    unsaved = visitor.customer_unsaved(context.workspace)
    widget_rate_limit(context=context, visitor=customer_identity(unsaved))
    chat, opening = flows.chat_pending_start(workspace=context.workspace, visitor=visitor)
    with_assistant = opening.plan.with_assistant
    return {
        "pending_token": pending_chat_sign(chat),
        "expires_at": pending_chat_expires_at(),
        "status": Conversation.Status.BOT if with_assistant else Conversation.Status.HANDED_OFF,
        "messages": [
            {
                "author": opening.author,
                "author_label": AUTHOR_LABELS.get(opening.author, "Support"),
                "kind": opening.kind,
                "text": opening.text,
            }
        ],
        "wait": None if with_assistant else wait_estimate(workspace=context.workspace),
    }


def _pending_chat(request: HttpRequest, token: str, *, message: bool = False) -> PendingChat:
    """The pending chat a request brings back, once the visitor is within the limits. An
    expired token still works if its conversation exists (a retry whose answer was lost)."""
    context = widget_context(request)
    chat = pending_chat_read(
        token=token,
        workspace=context.workspace,
        expired_ok=lambda chat: flows.pending_chat_exists(workspace=context.workspace, chat=chat),
    )
    widget_rate_limit(
        context=context, visitor=chat.identity, write=True, message=message, request=request
    )
    return chat


def _client_key(idempotency_key: str | None, body_key: str) -> str:
    client_key = (idempotency_key or body_key or "").strip()
    if len(client_key) > 64 or not client_key.isprintable():
        raise ConversationError("The idempotency key must be at most 64 printable characters.")
    return client_key


@api.post(
    BASE + "/pending/messages",
    response={200: FirstMessageOut, 201: FirstMessageOut, **BODY_ERRORS, 410: Error},
    summary="Post a chat's first message",
    description="Begins the conversation of a started chat with the customer's first message "
    "and returns the message and the conversation (with its token). 201 when stored, 200 "
    "when the idempotency key matched an earlier post (sent again, the same first message "
    "never begins a second conversation). 404: the pending token is not valid here; 410: it "
    "expired; start again.",
    tags=["conversations"],
)
def pending_message_create(
    request: HttpRequest,
    key: str,
    payload: PendingMessageIn,
    idempotency_key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
) -> Status[dict[str, Any]]:
    client_key = _client_key(idempotency_key, payload.client_key)
    chat = _pending_chat(request, payload.pending_token, message=True)
    opened, posted = flows.do_pending_chat_message(
        workspace=widget_context(request).workspace,
        chat=chat,
        text=payload.text,
        client_key=client_key,
    )
    conversation = _refresh(opened.conversation)
    return Status(
        201 if posted.created else 200,
        {
            **_message(posted.message, _base(request), conversation.workspace.name),
            "conversation": {**_conversation(request, conversation, 0), "token": opened.token},
        },
    )


@api.post(
    BASE + "/pending/handoff",
    response={200: StartedOut, 201: StartedOut, **BODY_ERRORS, 410: Error},
    summary="Talk to a person before writing",
    description="Begins the conversation of a started chat and hands it to the support team; "
    "the notice arrives as a message. 201 when it began now, 200 when an earlier request "
    "began it (a second press changes nothing). 404/410 as for the first message.",
    tags=["conversations"],
)
def pending_handoff_create(
    request: HttpRequest, key: str, payload: PendingIn
) -> Status[dict[str, Any]]:
    chat = _pending_chat(request, payload.pending_token)
    opened = flows.do_pending_chat_hand_off(workspace=widget_context(request).workspace, chat=chat)
    conversation = _refresh(opened.conversation)
    return Status(
        201 if opened.created else 200,
        {**_conversation(request, conversation, 0), "token": opened.token},
    )


@api.get(
    CONVERSATION + "/messages",
    response={200: ConversationOut, **ERRORS},
    auth=ended_chat_token,
    summary="Messages after a cursor",
    description="Poll this about once a second while the chat is open.",
    tags=["conversations"],
)
def messages_list(
    request: HttpRequest,
    key: str,
    conversation_id: int,
    after: int = Query(0, description="return messages with a larger id than this"),
) -> dict[str, Any]:
    conversation = _token_conversation(request)
    if after < 0:
        raise ConversationError("after must be 0 or a message id.")
    conversation_customer_seen(conversation=conversation)
    return _conversation(request, conversation, after)


@api.post(
    CONVERSATION + "/messages",
    response={200: MessageOut, 201: MessageOut, **BODY_ERRORS},
    auth=ended_chat_token,
    summary="Post the customer's message",
    description="201 when stored, 200 when the idempotency key matched an earlier post.",
    tags=["conversations"],
)
def message_create(
    request: HttpRequest,
    key: str,
    conversation_id: int,
    payload: MessageIn,
    idempotency_key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
) -> Status[dict[str, Any]]:
    client_key = _client_key(idempotency_key, payload.client_key)
    conversation = _token_conversation(request, message=True)
    posted = flows.do_customer_message(
        conversation=conversation, text=payload.text, client_key=client_key
    )
    company = conversation.workspace.name
    return Status(201 if posted.created else 200, _message(posted.message, _base(request), company))


@api.post(
    CONVERSATION + "/handoff",
    response={200: StateOut, **ERRORS},
    auth=conversation_token,
    summary="Talk to a person",
    description="Hands the conversation to the support team; the notice arrives as a message.",
    tags=["conversations"],
)
def handoff_create(request: HttpRequest, key: str, conversation_id: int) -> dict[str, Any]:
    conversation = _token_conversation(request, write=True)
    flows.do_hand_off(
        conversation=conversation,
        trigger="explicit_request",
        reason="customer pressed Talk to a person",
        by="customer",
    )
    return _state(_refresh(conversation))


@api.post(
    CONVERSATION + "/feedback",
    response={200: StateOut, **BODY_ERRORS},
    auth=conversation_token,
    summary="Did that solve it?",
    tags=["conversations"],
)
def feedback_create(
    request: HttpRequest, key: str, conversation_id: int, payload: FeedbackIn
) -> dict[str, Any]:
    conversation = _token_conversation(request, write=True)
    flows.do_feedback(conversation=conversation, solved=payload.solved)
    return _state(_refresh(conversation))


@api.post(
    CONVERSATION + "/csat",
    response={200: StateOut, **BODY_ERRORS},
    auth=ended_chat_token,
    summary="Rate the conversation (1-5)",
    description="A second rating replaces the first.",
    tags=["conversations"],
)
def csat_create(
    request: HttpRequest, key: str, conversation_id: int, payload: CsatIn
) -> dict[str, Any]:
    conversation = _token_conversation(request, write=True)
    response = csat_submit(conversation=conversation, score=payload.score, comment=payload.comment)
    return {**_state(conversation), "csat_score": response.score}


@api.post(
    CONVERSATION + "/end",
    response={200: StateOut, **ERRORS},
    auth=ended_chat_token,
    summary="End the chat",
    description="Closes the conversation and asks for a rating (once).",
    tags=["conversations"],
)
def conversation_end(request: HttpRequest, key: str, conversation_id: int) -> dict[str, Any]:
    conversation = _token_conversation(request, write=True)
    flows.do_customer_end(conversation=conversation)
    return _state(_refresh(conversation))


@api.post(
    CONVERSATION + "/email",
    response={200: StateOut, **BODY_ERRORS},
    auth=conversation_token,
    summary="Answer me by email",
    description="Stores where to send the team's answer when the customer has left the chat; "
    "a confirmation arrives as a message. Sending the same address again changes nothing.",
    tags=["conversations"],
)
def followup_email_create(
    request: HttpRequest, key: str, conversation_id: int, payload: EmailIn
) -> dict[str, Any]:
    conversation = _token_conversation(request, write=True)
    email = payload.email
    if payload.use_known:
        customer = conversation.customer
        if not (customer.is_verified and customer.email):
            raise ConversationError("We have no address for you yet; enter one.")
        email = customer.email
    conversation_followup_email_set(
        conversation=conversation,
        email=email,
        page_url=_page_url(request, payload.page_url, widget_context(request).allowed_origins),
    )
    return _state(_refresh(conversation))


@api.post(
    CONVERSATION + "/typing",
    response={204: None, **ERRORS},
    auth=conversation_token,
    summary="The customer is typing",
    description="Send while the customer types, at most every "
    f"{typing.PING_EVERY_S} s; the team sees \u201cCustomer is typing\u2026\u201d for "
    f"{typing.TYPING_TTL_S} s after the last one. Only while waiting for or chatting with "
    "a person (otherwise nobody is watching and it is ignored). Kept in memory, never stored.",
    tags=["conversations"],
)
def typing_create(request: HttpRequest, key: str, conversation_id: int) -> Status[None]:
    conversation = _token_conversation(request)
    if conversation.status in (Conversation.Status.HANDED_OFF, Conversation.Status.WITH_AGENT):
        typing.typing_mark(conversation_id=conversation.pk, who=typing.CUSTOMER)
    return Status(204, None)
