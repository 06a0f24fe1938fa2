"""The embed script, the demo shop page, and the API's published schema."""

from __future__ import annotations

import re
import time

import pytest

from supportops.accounts.services import workspace_create
from supportops.widget.security import customer_signature
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_embed_script_is_served_at_a_stable_address(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "max-age" in response["Cache-Control"]
    script = response.content.decode()
    assert "attachShadow" in script
    # Customer, agent and bot text is only ever set as text.
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "document.write" not in script and "eval(" not in script


def test_the_embed_script_only_talks_to_its_own_origin(client):
    script = client.get("/widget.js").content.decode()
    urls = set(re.findall(r"https?://[^\s\"'`)]+", script))
    # The only absolute URLs are the example in the header comment and the SVG namespace.
    assert urls <= {"https://support.example.com/widget.js", "http://www.w3.org/2000/svg"}


def test_the_widget_stylesheet_is_served(client):
    response = client.get("/widget.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert ":host" in response.content.decode()


def test_other_widget_assets_do_not_exist(client):
    assert client.get("/widget.py").status_code == 404


def test_the_openapi_schema_lists_every_endpoint(client):
    response = client.get("/api/widget/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    base = "/api/widget/v1/workspaces/{key}"
    conversation = base + "/conversations/{conversation_id}"
    assert {(path, method) for path, ops in schema["paths"].items() for method in ops} == {
        (base + "/config", "get"),
        (base + "/conversations", "post"),
        (base + "/pending/messages", "post"),
        (base + "/pending/handoff", "post"),
        (conversation + "/messages", "get"),
        (conversation + "/messages", "post"),
        (conversation + "/handoff", "post"),
        (conversation + "/feedback", "post"),
        (conversation + "/csat", "post"),
        (conversation + "/end", "post"),
        (conversation + "/email", "post"),
        (conversation + "/typing", "post"),
    }
    post_message = schema["paths"][conversation + "/messages"]["post"]
    assert {"200", "201", "400", "404", "429"} <= set(post_message["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post_message["parameters"])
    assert schema["components"]["securitySchemes"]["ConversationToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Conversation-Token",
    }
    assert "MessageOut" in schema["components"]["schemas"]
    # Starting stores nothing (200); the first message begins the conversation (201), or
    # finds the one an earlier try began (200); a pending token not valid here is 404, an
    # expired one 410.
    start = schema["paths"][base + "/conversations"]["post"]
    assert "201" not in start["responses"] and "200" in start["responses"]
    first = schema["paths"][base + "/pending/messages"]["post"]
    assert {"200", "201", "400", "404", "410", "413", "429", "503"} <= set(first["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in first["parameters"])


def test_the_api_docs_page_uses_local_assets(client):
    response = client.get("/api/widget/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


# --- Demo page ------------------------------------------------------------------------------


@pytest.fixture
def demo_workspace(db):
    return workspace_create(name="Tidewell Outdoor", slug="tidewell")


def test_the_demo_page_embeds_the_widget_for_the_demo_workspace(client, demo_workspace):
    response = client.get("/widget/demo/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'src="http://testserver/widget.js"' in page
    assert f'data-workspace="{demo_workspace.public_key}"' in page
    assert "data-signature" not in page


def test_the_demo_page_signs_a_demo_customer_of_the_demo_workspace(
    client, demo_workspace, settings
):
    settings.DEBUG = True  # a development machine (tests run with DEBUG off)
    response = client.get("/widget/demo/?customer=C-1001&name=Dana")
    page = response.content.decode()
    expires = int(re.search(r'data-signature-expires="(\d+)"', page).group(1))
    signature = customer_signature(
        secret=demo_workspace.secret, external_id="C-1001", name="Dana", expires=expires
    )
    assert 'data-customer-id="C-1001"' in page and 'data-customer-name="Dana"' in page
    assert f'data-signature="{signature}"' in page
    assert 0 < expires - time.time() <= 3600
    assert demo_workspace.secret not in page


def test_the_demo_page_signs_nothing_with_debug_off(client, demo_workspace, settings):
    # Finding 4: with DEBUG off the helper is gone even for the demo workspace.
    settings.DEBUG = False
    page = client.get("/widget/demo/?customer=C-1001").content.decode()
    assert "data-signature" not in page and "data-customer-id" not in page
    assert "Not signed" in page
    assert 'name="customer"' not in page  # no sign-in form either


def test_the_demo_page_never_signs_for_another_workspace_even_with_debug_on(
    client, owner, workspace, settings
):
    settings.DEBUG = True
    client.login(username=owner.email, password=PASSWORD)
    page = client.get("/widget/demo/?workspace=acme&customer=C-1001").content.decode()
    assert "data-signature" not in page and "data-customer-id" not in page
    assert "Not signed" in page


def test_the_demo_page_never_signs_for_a_real_workspace_in_production(
    client, owner, workspace, settings
):
    settings.DEBUG = False
    client.login(username=owner.email, password=PASSWORD)
    response = client.get("/widget/demo/?workspace=acme&customer=C-1001")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-workspace="{workspace.public_key}"' in page
    assert "data-signature" not in page and "data-customer-id" not in page
    assert "Not signed" in page


def test_the_demo_page_of_a_real_workspace_is_for_its_members_only(client, workspace, outsider):
    response = client.get("/widget/demo/?workspace=acme")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    client.login(username=outsider.email, password=PASSWORD)
    assert client.get("/widget/demo/?workspace=acme").status_code == 404
    assert client.get("/widget/demo/?workspace=nope").status_code == 404


def test_the_demo_page_escapes_what_it_echoes(client, demo_workspace):
    page = client.get('/widget/demo/?customer="><script>x()</script>').content.decode()
    assert "<script>x()</script>" not in page
