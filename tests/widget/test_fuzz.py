"""Schemathesis fuzzes the widget API from its own OpenAPI schema on the running test server.

Requests are generated for every operation (valid and deliberately invalid data, a fixed seed)
and sent four ways: from an allowed website into a real conversation with its token, from a
foreign website, with an unknown workspace key, and with a made-up conversation and token. No
answer may be a server error, and every answer must be one the schema documents: status code,
content type, headers and body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from supportops.bot.turn import models_warm
from supportops.conversations.models import Conversation
from supportops.widget.models import WidgetSettings

from .conftest import SHOP, new_visitor_id

pytestmark = pytest.mark.django_db(transaction=True)

# Per operation, kind of data (valid, invalid) and way of sending.
EXAMPLES_PER_OPERATION = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FOREIGN = "https://attacker.example"
REQUEST_TIMEOUT_S = 30  # a shared, busy test machine; the checks judge answers, not speed


@dataclass
class Target:
    key: str
    conversation_id: int
    token: str


@pytest.fixture
def widget_target(live_server, workspace, settings) -> Target:
    # The fuzzer posts far faster than a person; the limits are tested on their own.
    settings.WIDGET_RATE_PER_VISITOR_PER_MIN = 1_000_000
    settings.WIDGET_RATE_MESSAGES_PER_VISITOR_PER_MIN = 1_000_000
    settings.WIDGET_RATE_PER_WORKSPACE_PER_MIN = 1_000_000
    settings.WIDGET_RATE_STARTS_PER_IP = "1000000/minute"
    settings.WIDGET_RATE_WRITES_PER_IP = "1000000/minute"
    WidgetSettings.objects.create(workspace=workspace, allowed_origins=[SHOP])
    # A handoff reads the sentiment and embedding models; load them before the clock runs.
    models_warm()

    api = f"{live_server.url}/api/widget/v1/workspaces/{workspace.public_key}"
    started = requests.post(
        f"{api}/conversations",
        json={"visitor_id": new_visitor_id()},
        headers={"Origin": SHOP},
        timeout=10,
    )
    assert started.status_code == 200, started.text
    # Starting stores nothing; the first message begins the conversation the fuzzer uses.
    first = requests.post(
        f"{api}/pending/messages",
        json={"text": "Hello", "pending_token": started.json()["pending_token"]},
        headers={"Origin": SHOP},
        timeout=30,
    )
    assert first.status_code == 201, first.text
    body = first.json()["conversation"]
    return Target(key=workspace.public_key, conversation_id=body["id"], token=body["token"])


@dataclass(frozen=True)
class Way:
    """One way of sending every generated request: fixed path parts and headers."""

    origin: str
    own_conversation: bool
    valid_key: bool = True
    expect: tuple[int, ...] = ()  # if set, the only statuses allowed


WAYS = {
    # An allowed website in its own conversation: the requests that reach the endpoints.
    "allowed-origin": Way(origin=SHOP, own_conversation=True),
    # Another website with the right key, conversation and token: refused before anything runs.
    "foreign-origin": Way(origin=FOREIGN, own_conversation=True, expect=(403,)),
    # A key no workspace has (as generated): nothing to find.
    "unknown-key": Way(origin=SHOP, own_conversation=True, valid_key=False),
    # The right workspace, a generated conversation id and a wrong token: never a conversation.
    "wrong-token": Way(origin=SHOP, own_conversation=False),
}


def _describe(exc: BaseException) -> str:
    """The failure and, for Hypothesis's groups, each failure inside it."""
    if isinstance(exc, BaseExceptionGroup):
        return f"{exc}\n" + "\n".join(_describe(inner) for inner in exc.exceptions)
    return str(exc)


@pytest.mark.parametrize("way", WAYS.values(), ids=WAYS.keys())
def test_every_generated_request_gets_a_documented_answer_and_never_a_server_error(
    live_server, widget_target, way
):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/widget/v1/openapi.json")
    target = widget_target
    failures: list[str] = []
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        path: dict[str, Any] = {}
        if way.valid_key:
            path["key"] = target.key
        if way.own_conversation and "conversation_id" in operation.path:
            path["conversation_id"] = target.conversation_id
        headers = {"Origin": way.origin}
        if "conversation_id" in operation.path:
            headers["X-Conversation-Token"] = target.token if way.own_conversation else "wrong"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(mode, path_parameters=path, headers=headers)

            @given(case=strategy)
            @hypothesis_settings(
                max_examples=EXAMPLES_PER_OPERATION,
                derandomize=True,  # the same requests on every run
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            def send(case: Any) -> None:
                nonlocal sent
                sent += 1
                response = case.call_and_validate(checks=CHECKS, timeout=REQUEST_TIMEOUT_S)
                if way.expect:
                    assert response.status_code in way.expect, response.text

            try:
                send()
            except Unsatisfiable:  # every part fixed: there is no invalid request to make
                continue
            except Exception as exc:  # the shrunk failing example, reported with the others
                failures.append(f"{operation.label} ({mode.value}): {_describe(exc)}")
    assert sent >= 11 * 2 * 5, sent  # every operation, both kinds of data
    assert not failures, "\n\n".join(failures)
    # However the requests were put, the wrong ways never reached a conversation.
    if way.expect or not way.valid_key:
        assert Conversation.objects.count() == 1
