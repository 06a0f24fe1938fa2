"""Customer identity (security review, finding 7 and the non-ASCII signature of finding 8):
the host site signs id, email, name and an expiry; two secrets during a rotation; conversation
tokens that expire and stop working once the chat has ended; refusals are audited."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from supportops.accounts.models import AuditLog
from supportops.accounts.services import workspace_secret_previous_retire, workspace_secret_rotate
from supportops.conversations.models import Conversation, Customer
from supportops.widget.security import customer_signature

from .conftest import signed

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def host_signed(secret: str, customer_id: str, *, email="", name="", expires=None) -> dict:
    """What a host site's server sends, computed here independently of the product's code."""
    expires = int(time.time()) + 600 if expires is None else expires
    message = "\n".join([customer_id, email, name, str(expires)]).encode()
    return {
        "customer_id": customer_id,
        "customer_email": email,
        "customer_name": name,
        "signature_expires": expires,
        "signature": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(),
    }


def refused(shop, body) -> None:
    response = shop.post("/conversations", body)
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": "The signature does not match."}


def test_the_signature_covers_id_email_name_and_expiry(shop, workspace):
    body = host_signed(workspace.secret, "C-1", email="dana@example.com", name="Dana Reyes")
    started = shop.chat(**body)
    customer = Conversation.objects.get(pk=started["id"]).customer
    assert (customer.external_id, customer.email, customer.name) == (
        "C-1",
        "dana@example.com",
        "Dana Reyes",
    )
    # Any one field changed after signing is refused.
    for field, value in [
        ("customer_id", "C-2"),
        ("customer_email", "mallory@example.com"),
        ("customer_name", "Mallory"),
        ("signature_expires", body["signature_expires"] + 60),
    ]:
        refused(shop, {**body, field: value})


def test_unsigned_name_and_email_never_overwrite_a_verified_customer(shop, workspace):
    shop.chat(**signed(workspace, "C-7", email="dana@example.com", name="Dana"))
    # A signature the host made for the id alone (no email, no name) ...
    only_id = host_signed(workspace.secret, "C-7")
    # ... does not carry someone else's name and address onto the record.
    refused(shop, {**only_id, "customer_name": "Mallory", "customer_email": "m@evil.example"})
    shop.chat(**only_id)  # signed as sent: fine, and changes nothing
    customer = Customer.objects.get(external_id="C-7")
    assert (customer.name, customer.email) == ("Dana", "dana@example.com")


def test_an_expired_signature_is_refused(shop, workspace):
    refused(shop, host_signed(workspace.secret, "C-1", expires=int(time.time()) - 1))
    assert not Customer.objects.filter(external_id="C-1").exists()


def test_a_signature_without_an_expiry_is_refused(shop, workspace):
    body = host_signed(workspace.secret, "C-1")
    refused(shop, {**body, "signature_expires": None})
    # The signature of the old scheme (the id alone, never expiring) opens nothing either.
    legacy = hmac.new(workspace.secret.encode(), b"C-1", hashlib.sha256).hexdigest()
    refused(shop, {"customer_id": "C-1", "signature": legacy})


def test_a_signature_valid_for_longer_than_the_maximum_is_refused(shop, workspace, settings):
    settings.WIDGET_SIGNATURE_MAX_AGE_HOURS = 24
    far = int(time.time()) + 25 * 3600
    refused(shop, host_signed(workspace.secret, "C-1", expires=far))
    shop.start(**host_signed(workspace.secret, "C-1", expires=int(time.time()) + 23 * 3600))


@pytest.mark.parametrize("signature", ["é" * 64, "ａ" * 64, "\u00ff" + "0" * 63, "0" * 63 + "\x00"])
def test_a_non_ascii_signature_is_403_not_500(shop, workspace, signature):
    body = host_signed(workspace.secret, "C-1")
    refused(shop, {**body, "signature": signature})


def test_a_line_break_in_a_signed_field_is_refused(shop, workspace):
    # "C-1\n" + email would otherwise sign the same bytes as another split of the fields.
    refused(shop, host_signed(workspace.secret, "C-1\nx", name="Dana"))


def test_refused_signatures_are_audited_once_a_minute_per_reason(shop, workspace):
    for _ in range(5):
        refused(shop, host_signed(workspace.secret, "C-1", expires=int(time.time()) - 5))
    refused(shop, {**host_signed(workspace.secret, "C-1"), "signature": "0" * 64})
    rows = AuditLog.objects.filter(workspace=workspace, action="widget.signature_refused")
    assert sorted(r.details["reason"] for r in rows) == ["does not match", "expired"]
    assert all(r.details["ip"] == "127.0.0.1" for r in rows)


# --- Two secrets during a rotation ----------------------------------------------------------


def test_a_rotation_keeps_the_previous_secret_for_the_overlap_window(shop, workspace, owner):
    old = workspace.secret
    workspace_secret_rotate(workspace=workspace, actor=owner)
    workspace.refresh_from_db()
    assert workspace.secret != old and workspace.secret_previous == old
    shop.start(**host_signed(old, "C-1"))  # host sites not yet switched keep working
    shop.start(**host_signed(workspace.secret, "C-1"))
    # The window ends: the previous secret is refused.
    workspace.secret_previous_until = timezone.now() - timedelta(seconds=1)
    workspace.save(update_fields=["secret_previous_until"])
    refused(shop, host_signed(old, "C-1"))
    actions = list(AuditLog.objects.filter(workspace=workspace).values_list("action", flat=True))
    assert "widget.secret_rotate" in actions


def test_retiring_the_previous_secret_refuses_it_at_once(shop, workspace, owner):
    old = workspace.secret
    workspace_secret_rotate(workspace=workspace, actor=owner)
    workspace_secret_previous_retire(workspace=workspace, actor=owner)
    refused(shop, host_signed(old, "C-1"))
    assert AuditLog.objects.filter(action="widget.secret_retire_previous").count() == 1


def test_only_two_secrets_are_ever_valid(shop, workspace, owner):
    first = workspace.secret
    workspace_secret_rotate(workspace=workspace, actor=owner)
    workspace.refresh_from_db()
    second = workspace.secret
    workspace_secret_rotate(workspace=workspace, actor=owner)
    workspace.refresh_from_db()
    refused(shop, host_signed(first, "C-1"))
    shop.start(**host_signed(second, "C-1"))
    shop.start(**host_signed(workspace.secret, "C-1"))


# --- Conversation tokens ----------------------------------------------------------------------


def _age(started: dict, **delta) -> None:
    Conversation.objects.filter(pk=started["id"]).update(
        created_at=timezone.now() - timedelta(**delta)
    )


def test_a_token_expires_after_its_lifetime(shop, settings):
    settings.WIDGET_TOKEN_TTL_HOURS = 24
    started = shop.chat()
    _age(started, hours=23)
    assert shop.read(started).status_code == 200
    _age(started, hours=24, seconds=1)
    assert shop.read(started).status_code == 404
    assert shop.say(started, "hello?").status_code == 404


def test_an_ended_chat_keeps_only_what_its_screen_needs_for_the_grace_period(shop, settings):
    settings.WIDGET_TOKEN_ENDED_GRACE_MINUTES = 30
    started = shop.chat()
    base = f"/conversations/{started['id']}"
    token = started["token"]
    assert shop.post(base + "/end", token=token).status_code == 200
    # Within the grace: the transcript, the rating, and a repeated "End chat".
    assert shop.read(started).status_code == 200
    assert shop.post(base + "/csat", {"score": 5}, token=token).status_code == 200
    assert shop.post(base + "/end", token=token).status_code == 200
    # Nothing an open chat does.
    assert shop.post(base + "/handoff", token=token).status_code == 404
    assert shop.post(base + "/feedback", {"solved": True}, token=token).status_code == 404
    assert shop.post(base + "/email", {"email": "a@b.example"}, token=token).status_code == 404
    # After the grace: nothing at all.
    Conversation.objects.filter(pk=started["id"]).update(
        resolved_at=timezone.now() - timedelta(minutes=31)
    )
    assert shop.read(started).status_code == 404
    assert shop.post(base + "/csat", {"score": 1}, token=token).status_code == 404
    assert shop.say(started, "hello again").status_code == 404


def test_a_message_within_the_grace_reopens_the_chat(shop):
    started = shop.chat()
    shop.post(f"/conversations/{started['id']}/end", token=started["token"])
    assert shop.say(started, "One more thing").status_code == 201
    assert shop.read(started).json()["status"] == "bot"


def test_widget_rate_limit_hits_are_audited_once_a_minute(shop, workspace, settings):
    settings.WIDGET_RATE_MESSAGES_PER_VISITOR_PER_MIN = 1
    started = shop.start()
    assert shop.say(started, "one").status_code == 201
    for text in ("two", "three", "four"):
        assert shop.say(started, text).status_code == 429
    rows = AuditLog.objects.filter(workspace=workspace, action="widget.rate_limited")
    assert [r.details["limit"] for r in rows] == ["messages"]


# --- The host-side code in the README ---------------------------------------------------------


def _readme_block(language: str, marker: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.DOTALL)
    matching = [b for b in blocks if marker in b]
    assert matching, f"README has no {language} block with {marker}"
    return matching[0]


def test_the_readmes_python_host_code_signs_what_the_api_accepts(shop, workspace):
    namespace: dict = {}
    exec(_readme_block("python", "def sign_customer"), namespace)  # noqa: S102
    fields = namespace["sign_customer"](workspace.secret, "C-42", "dana@example.com", "Dana")
    assert fields["signature"] == customer_signature(
        secret=workspace.secret,
        external_id="C-42",
        email="dana@example.com",
        name="Dana",
        expires=fields["expires"],
    )
    started = shop.chat(
        customer_id=fields["id"],
        customer_email=fields["email"],
        customer_name=fields["name"],
        signature_expires=fields["expires"],
        signature=fields["signature"],
    )
    assert Conversation.objects.get(pk=started["id"]).customer.external_id == "C-42"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_readmes_node_host_code_signs_what_the_api_accepts(shop, workspace):
    script = _readme_block("js", "function signCustomer") + (
        "\nconsole.log(JSON.stringify(signCustomer(process.env.WIDGET_SECRET, 'C-43', "
        "'dana@example.com', 'Dana Reyes')));\n"
    )
    out = subprocess.run(
        ["node", "-e", script],  # noqa: S607
        env={"PATH": os.environ.get("PATH", ""), "WIDGET_SECRET": workspace.secret},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    fields = json.loads(out)
    shop.start(
        customer_id=fields["id"],
        customer_email=fields["email"],
        customer_name=fields["name"],
        signature_expires=fields["expires"],
        signature=fields["signature"],
    )
