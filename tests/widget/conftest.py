"""Widget API fixtures: a workspace whose widget may be embedded on https://shop.example, and a
small client that speaks the API the way the embed script does."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from supportops.accounts.models import Workspace
from supportops.widget.models import WidgetSettings
from supportops.widget.security import customer_identity_signed

SHOP = "https://shop.example"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """The standing users' passwords are hashed per test; the real hasher is slow by design."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def widget(workspace: Workspace) -> WidgetSettings:
    return WidgetSettings.objects.create(
        workspace=workspace,
        allowed_origins=[SHOP, "http://localhost:3000"],
        title="Acme help",
        accent_color="#123456",
    )


@dataclass
class WidgetClient:
    client: Client
    workspace: Workspace
    origin: str | None = SHOP

    @property
    def base(self) -> str:
        return f"/api/widget/v1/workspaces/{self.workspace.public_key}"

    def _headers(self, token: str | None, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.origin is not None:
            headers.setdefault("Origin", self.origin)
        if token is not None:
            headers["X-Conversation-Token"] = token
        return headers

    def get(self, path: str, *, token: str | None = None, headers: dict | None = None):
        return self.client.get(self.base + path, headers=self._headers(token, headers))

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict | None = None,
        raw: str | None = None,
    ):
        data = raw if raw is not None else json.dumps({} if body is None else body)
        return self.client.post(
            self.base + path,
            data=data,
            content_type="application/json",
            headers=self._headers(token, headers),
        )

    def options(self, path: str, *, headers: dict | None = None):
        return self.client.options(self.base + path, headers=self._headers(None, headers))

    def start(self, **body: Any) -> dict[str, Any]:
        """A started chat: nothing stored yet, only its `pending_token` and greeting. `say`
        to it begins the conversation (and fills in its `id` and `token`)."""
        if "customer_id" not in body:
            body.setdefault("visitor_id", new_visitor_id())
        response = self.post("/conversations", body)
        assert response.status_code == 200, response.content
        return response.json()

    def chat(self, text: str = "Hello", **body: Any) -> dict[str, Any]:
        """A conversation that has begun: started, and its first message sent. `cursor` is
        the greeting, so reading after it returns the first message and what followed."""
        chat = self.start(**body)
        first = self.say(chat, text)
        assert first.status_code == 201, first.content
        chat["cursor"] = chat["messages"][0]["id"]
        return chat

    def say(self, conversation: dict[str, Any], text: str, key: str | None = None):
        headers = {"Idempotency-Key": key} if key else None
        if "id" not in conversation:  # the chat's first message begins the conversation
            response = self.post(
                "/pending/messages",
                {"text": text, "pending_token": conversation["pending_token"]},
                headers=headers,
            )
            if response.status_code in (200, 201):
                conversation.update(response.json()["conversation"])
            return response
        return self.post(
            f"/conversations/{conversation['id']}/messages",
            {"text": text},
            token=conversation["token"],
            headers=headers,
        )

    def read(self, conversation: dict[str, Any], after: int = 0):
        return self.get(
            f"/conversations/{conversation['id']}/messages?after={after}",
            token=conversation["token"],
        )


def new_visitor_id() -> str:
    return secrets.token_hex(16)


def signed(workspace: Workspace, external_id: str, **fields: Any) -> dict[str, Any]:
    """The signed-customer fields of a conversation start, as the host site's server makes
    them (`email`, `name`, `ttl_s` optional)."""
    return customer_identity_signed(workspace=workspace, external_id=external_id, **fields)


@pytest.fixture
def shop(client: Client, workspace: Workspace, widget: WidgetSettings) -> WidgetClient:
    """Calls as the browser on https://shop.example (an allowed origin)."""
    return WidgetClient(client=client, workspace=workspace)
