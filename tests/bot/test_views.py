"""Bot settings and categories pages: who may do what, and what each page does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from supportops.accounts.models import AuditLog
from supportops.accounts.services import workspace_create
from supportops.bot import categories
from supportops.bot.categories import category_create, category_examples_add
from supportops.bot.models import BotSettings, CategoryExample, IssueCategory
from supportops.bot.services import bot_settings_get
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def bot_url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"bot:{name}", args=[slug, *args])


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def settings_data(**overrides: Any) -> dict[str, Any]:
    """A valid settings form: the defaults, with switches posted the way browsers do."""
    current = BotSettings()
    data: dict[str, Any] = {
        "persona_name": current.persona_name,
        "greeting": current.greeting,
        "handoff_message": current.handoff_message,
        "frustration_threshold": current.frustration_threshold,
        "max_customer_turns": current.max_customer_turns,
        "repeat_similarity": current.repeat_similarity,
        "min_retrieval_score": current.min_retrieval_score,
        "clarify_below": current.clarify_below,
    }
    for switch in (
        "enabled",
        "explicit_request_enabled",
        "frustration_enabled",
        "high_stakes_enabled",
        "turn_limit_enabled",
        "low_confidence_enabled",
        "vip_enabled",
    ):
        if getattr(current, switch):
            data[switch] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def csv_upload(content: bytes, name: str = "tickets.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture(autouse=True)
def fresh_classifier_cache():
    categories.category_classifier_forget()
    yield
    categories.category_classifier_forget()


@pytest.fixture
def shipping(workspace, owner) -> IssueCategory:
    category = category_create(workspace=workspace, name="Shipping", actor=owner)
    category_examples_add(category=category, texts=["Where is my parcel?"], actor=owner)
    return category


# --- Permissions: every page and action, every kind of user ------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    method: str = "get"
    with_category: bool = False
    with_example: bool = False
    writes: bool = False
    ok: int = 200  # what an allowed user gets
    data: dict[str, Any] = field(default_factory=dict)
    upload: bool = False


PAGES = [
    Page("settings"),
    Page("settings-save", "post", writes=True, ok=302),
    Page("category-list"),
    Page("category-try", data={"text": ""}),
    Page("category-detail", with_category=True),
    Page("category-create", "post", writes=True, ok=302, data={"name": "Returns"}),
    Page("category-defaults", "post", writes=True, ok=302),
    Page("category-import", "post", writes=True, upload=True),
    Page("category-edit", "post", with_category=True, writes=True, ok=302, data={"name": "Post"}),
    Page("category-delete", "post", with_category=True, writes=True, ok=302),
    Page(
        "category-examples-add",
        "post",
        with_category=True,
        writes=True,
        ok=302,
        data={"texts": "Parcel late"},
    ),
    Page(
        "category-example-remove",
        "post",
        with_category=True,
        with_example=True,
        writes=True,
        ok=302,
    ),
]


def page_id(page: Page) -> str:
    return f"{page.method}-{page.name}"


def request_page(client: Client, page: Page, category: IssueCategory, slug: str = "acme"):
    args: list[object] = []
    if page.with_category:
        args.append(category.pk)
    if page.with_example:
        args.append(category.examples.first().pk)
    data = dict(page.data)
    if page.name == "settings-save":
        data = settings_data(persona_name="Marlin")
    if page.upload:
        data["file"] = csv_upload(b"text,label\nMy parcel is late,Shipping\n")
    return getattr(client, page.method)(bot_url(page.name, *args, slug=slug), data)


def state(workspace) -> tuple[Any, ...]:
    """Everything the pages can change, to check that refused requests change nothing."""
    settings = bot_settings_get(workspace=workspace)
    return (
        settings.persona_name,
        tuple(IssueCategory.objects.filter(workspace=workspace).values_list("pk", "name")),
        tuple(CategoryExample.objects.filter(workspace=workspace).values_list("pk", "text")),
    )


@pytest.mark.parametrize("page", PAGES, ids=page_id)
@pytest.mark.parametrize("who", ["owner", "manager"])
def test_editors_may_use_every_page(client, request, page, who, shipping):
    login(client, request.getfixturevalue(who))
    assert request_page(client, page, shipping).status_code == page.ok


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_agent_may_read_but_not_change(client, teammate, workspace, page, shipping):
    login(client, teammate)
    before = state(workspace)
    response = request_page(client, page, shipping)
    assert response.status_code == (403 if page.writes else page.ok)
    assert state(workspace) == before


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_finance_is_refused(client, finance, workspace, page, shipping):
    login(client, finance)
    before = state(workspace)
    assert request_page(client, page, shipping).status_code == 403
    assert state(workspace) == before


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_outsider_gets_404(client, outsider, workspace, page, shipping):
    login(client, outsider)
    before = state(workspace)
    assert request_page(client, page, shipping).status_code == 404
    assert state(workspace) == before


@pytest.mark.parametrize("page", [p for p in PAGES if p.with_category], ids=page_id)
def test_outsider_cannot_reach_a_category_through_their_own_workspace(
    client, outsider, workspace, page, shipping
):
    """Charlie is admin of 'other'; Acme's category id under his slug is still not found."""
    login(client, outsider)
    before = state(workspace)
    assert request_page(client, page, shipping, slug="other").status_code == 404
    assert state(workspace) == before


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_anonymous_is_sent_to_login(client, page, shipping):
    response = request_page(client, page, shipping)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_post_without_csrf_token_is_refused(owner, workspace):
    client = Client(enforce_csrf_checks=True)
    login(client, owner)
    response = client.post(bot_url("settings-save"), settings_data(persona_name="Sneaky"))
    assert response.status_code == 403
    assert bot_settings_get(workspace=workspace).persona_name != "Sneaky"


def test_nav_links_to_settings_and_inbox_except_for_finance(client, owner, finance):
    html = login(client, owner).get(bot_url("settings")).content.decode()
    assert bot_url("settings") in html
    assert reverse("inbox:index", args=["acme"]) in html
    client.logout()
    login(client, finance)
    html = client.get(reverse("knowledge:article-list", args=["acme"])).content.decode()
    assert bot_url("settings") not in html
    assert reverse("inbox:index", args=["acme"]) not in html


# --- Settings ----------------------------------------------------------------------------------


def test_saving_settings_audits_each_change_with_before_and_after(client, manager, workspace):
    login(client, manager)
    response = client.post(
        bot_url("settings-save"),
        settings_data(
            persona_name="Marlin",
            frustration_threshold="0.7",
            vip_enabled="on",
            low_confidence_enabled=None,  # unticked
        ),
    )
    assert response.status_code == 302
    settings = bot_settings_get(workspace=workspace)
    assert settings.persona_name == "Marlin"
    assert settings.frustration_threshold == 0.7
    assert settings.vip_enabled and not settings.low_confidence_enabled
    log = AuditLog.objects.get(workspace=workspace, action="bot_settings.update")
    assert log.actor == manager
    assert log.details["changes"] == {
        "persona_name": {"before": "Tide", "after": "Marlin"},
        "frustration_threshold": {"before": BotSettings().frustration_threshold, "after": 0.7},
        "low_confidence_enabled": {"before": True, "after": False},
        "vip_enabled": {"before": False, "after": True},
    }


def test_saving_unchanged_settings_writes_no_audit_row(client, owner, workspace):
    login(client, owner)
    assert client.post(bot_url("settings-save"), settings_data()).status_code == 302
    assert not AuditLog.objects.filter(action="bot_settings.update").exists()


def test_a_greeting_that_hides_the_ai_is_refused_with_an_explanation(client, owner, workspace):
    login(client, owner)
    response = client.post(
        bot_url("settings-save"),
        settings_data(greeting="Hi, I'm Sam from the support team. How can I help?"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "must tell customers they are talking to an AI" in html
    assert bot_settings_get(workspace=workspace).greeting == BotSettings().greeting
    assert not AuditLog.objects.filter(action="bot_settings.update").exists()


@pytest.mark.parametrize(
    "greeting",
    [
        "Hello! I'm {persona}, the AI helper of {company}.",
        "Hi, you're chatting with our virtual assistant.",
        "Hey there, this is the {company} bot.",
    ],
)
def test_greetings_that_disclose_the_ai_are_accepted(client, owner, workspace, greeting):
    login(client, owner)
    assert (
        client.post(bot_url("settings-save"), settings_data(greeting=greeting)).status_code == 302
    )
    assert bot_settings_get(workspace=workspace).greeting == greeting


def test_an_unknown_placeholder_in_the_greeting_is_refused(client, owner, workspace):
    login(client, owner)
    response = client.post(
        bot_url("settings-save"), settings_data(greeting="Hi, I'm {name}, an AI assistant.")
    )
    assert response.status_code == 400
    assert "Unknown placeholder {name}" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("frustration_threshold", "1.5"),
        ("max_customer_turns", "0"),
        ("repeat_similarity", "0.1"),
        ("min_retrieval_score", "-1"),
    ],
)
def test_thresholds_out_of_range_are_refused(client, owner, workspace, name, value):
    login(client, owner)
    response = client.post(bot_url("settings-save"), settings_data(**{name: value}))
    assert response.status_code == 400
    assert getattr(bot_settings_get(workspace=workspace), name) == getattr(BotSettings(), name)


def test_asking_below_the_hand_off_floor_is_refused(client, owner, workspace):
    login(client, owner)
    response = client.post(
        bot_url("settings-save"), settings_data(min_retrieval_score="0.5", clarify_below="0.3")
    )
    assert response.status_code == 400
    assert "must be at least the minimum retrieval score" in response.content.decode()
    assert bot_settings_get(workspace=workspace).min_retrieval_score == 0.3


def test_the_settings_page_explains_each_trigger_and_its_default(client, owner, workspace):
    html = login(client, owner).get(bot_url("settings")).content.decode()
    defaults = BotSettings()
    assert f"default {defaults.frustration_threshold:g}." in html
    assert f"default {defaults.max_customer_turns}." in html
    assert "Customer asks for a person" in html
    assert "VIP customers go to a person" in html and "Default: off" in html
    assert "Save settings" in html


def test_an_agent_sees_the_settings_read_only(client, teammate):
    html = login(client, teammate).get(bot_url("settings")).content.decode()
    assert "Save settings" not in html
    assert 'name="persona_name"' in html and "disabled" in html
    assert bot_url("settings-save") in html  # the form is shown, but cannot be sent


# --- Categories --------------------------------------------------------------------------------


def test_the_category_list_shows_example_counts_and_high_stakes(client, owner, workspace):
    category_create(workspace=workspace, name="legal_threat", actor=owner)
    returns = category_create(workspace=workspace, name="Returns", actor=owner)
    category_examples_add(category=returns, texts=["Send it back", "Return label"], actor=owner)
    html = login(client, owner).get(bot_url("category-list")).content.decode()
    assert "Returns" in html and ">2<" in html
    assert "high stakes" in html
    assert "Install defaults" in html


def test_creating_a_category_with_a_taken_name_shows_the_error(client, owner, shipping):
    login(client, owner)
    response = client.post(bot_url("category-create"), {"name": "shipping"})
    assert response.status_code == 400
    assert "already a category" in response.content.decode()


def test_installing_defaults_from_the_page(client, manager, workspace):
    login(client, manager)
    client.post(bot_url("category-defaults"))
    names = set(IssueCategory.objects.filter(workspace=workspace).values_list("name", flat=True))
    assert names == {"billing_dispute", "fraud_account_security", "legal_threat", "data_deletion"}
    html = client.get(bot_url("category-list")).content.decode()
    assert "Install defaults" not in html


def test_importing_tickets_shows_the_counts(client, owner, workspace, shipping):
    login(client, owner)
    content = (
        b"text,label\nMy parcel is late,Shipping\nWhere is my parcel?,shipping\n"
        b"I want a refund,Refunds\nTell me a joke,out_of_scope\n"
    )
    response = client.post(bot_url("category-import"), {"file": csv_upload(content)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Imported tickets.csv" in html
    assert "4 rows, 3 examples added, 1 already known and skipped" in html
    assert "New categories: Refunds, out_of_scope." in html
    assert IssueCategory.objects.get(workspace=workspace, name="Refunds").examples.count() == 1


def test_a_bad_tickets_file_names_the_line_and_imports_nothing(client, owner, workspace):
    login(client, owner)
    content = b"text,label\nMy parcel is late,Shipping\nNo label here,\n"
    response = client.post(bot_url("category-import"), {"file": csv_upload(content)})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported." in html
    assert "Line 3: The label is empty" in html
    assert not IssueCategory.objects.filter(workspace=workspace).exists()


def test_category_detail_lists_examples_escaped(client, owner, workspace, shipping):
    category_examples_add(category=shipping, texts=["<script>alert(1)</script>"], actor=owner)
    html = login(client, owner).get(bot_url("category-detail", shipping.pk)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "2 examples" in html


def test_adding_examples_with_htmx_returns_the_list(client, manager, shipping):
    login(client, manager)
    response = client.post(
        bot_url("category-examples-add", shipping.pk),
        {"texts": "Parcel is late\n\nWhere is my parcel?\nLost parcel"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="examples"')
    assert "Added 2 examples." in html and "skipped" in html
    assert shipping.examples.count() == 3


def test_removing_an_example_with_htmx(client, owner, shipping):
    login(client, owner)
    example = shipping.examples.get()
    response = client.post(
        bot_url("category-example-remove", shipping.pk, example.pk), headers=HTMX
    )
    assert response.status_code == 200
    assert "No examples yet." in response.content.decode()
    assert not shipping.examples.exists()


def test_an_example_of_another_category_is_404(client, owner, workspace, shipping):
    other = category_create(workspace=workspace, name="Returns", actor=owner)
    login(client, owner)
    example = shipping.examples.get()
    response = client.post(bot_url("category-example-remove", other.pk, example.pk))
    assert response.status_code == 404
    assert CategoryExample.objects.filter(pk=example.pk).exists()


def test_a_category_of_another_workspace_is_404(client, owner, outsider):
    other = workspace_create(name="Third", owner=outsider, slug="third")
    foreign = category_create(workspace=other, name="Secret", actor=outsider)
    login(client, owner)
    assert client.get(bot_url("category-detail", foreign.pk)).status_code == 404
    assert client.post(bot_url("category-delete", foreign.pk)).status_code == 404
    assert IssueCategory.objects.filter(pk=foreign.pk).exists()


def test_renaming_to_a_taken_name_shows_the_error(client, owner, workspace, shipping):
    category_create(workspace=workspace, name="Returns", actor=owner)
    login(client, owner)
    response = client.post(bot_url("category-edit", shipping.pk), {"name": "returns"})
    assert response.status_code == 400
    assert "already a category" in response.content.decode()
    shipping.refresh_from_db()
    assert shipping.name == "Shipping"


def test_try_a_message_shows_the_category_and_confidence(client, teammate, workspace, owner):
    for name, texts in {
        "track_order": [
            "Where is my order?",
            "Has my package shipped yet?",
            "I want to track my parcel",
            "When will my delivery arrive?",
        ],
        "reset_password": [
            "I forgot my password",
            "How do I reset my password?",
            "Send me a password reset link",
            "I can't log in, my password doesn't work",
        ],
    }.items():
        category = category_create(workspace=workspace, name=name, actor=owner)
        category_examples_add(category=category, texts=texts, actor=owner)
    login(client, teammate)  # agents may try messages too
    response = client.get(
        bot_url("category-try"), {"text": "I forgot my password again"}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="try-result"')
    assert "Category <strong>reset_password</strong>" in html
    assert "confidence" in html

    hacked = client.get(
        bot_url("category-try"), {"text": "Someone hacked into my account"}, headers=HTMX
    ).content.decode()
    assert "fraud_account_security" in hacked and "goes to a person" in hacked


def test_try_a_message_before_training_says_so(client, owner, shipping):
    login(client, owner)
    html = client.get(
        bot_url("category-try"), {"text": "Where is my parcel?"}, headers=HTMX
    ).content.decode()
    assert "Not trained yet" in html
