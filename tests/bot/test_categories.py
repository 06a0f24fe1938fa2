"""Issue categories: the writes (audited), the tickets CSV import (all or nothing), the shipped
defaults, and the workspace classifier trained from the examples (real embeddings)."""

from __future__ import annotations

import pytest

from supportops.accounts.models import AuditLog
from supportops.accounts.services import workspace_create
from supportops.bot import categories
from supportops.bot.categories import (
    CategoryError,
    TicketImportError,
    categories_install_defaults,
    category_classifier_for,
    category_create,
    category_delete,
    category_example_remove,
    category_examples_add,
    category_list,
    category_out_of_scope,
    category_tickets_import,
    category_try,
    category_update,
    shipped_category_examples,
)
from supportops.bot.models import CategoryExample, IssueCategory
from supportops.bot.services import bot_settings_get
from supportops.text.intents import HIGH_STAKES_CATEGORIES

pytestmark = pytest.mark.django_db

TRAINING = {
    "track_order": [
        "Where is my order?",
        "Has my package shipped yet?",
        "I want to track my parcel",
        "When will my delivery arrive?",
        "Can you give me the tracking number for my order?",
    ],
    "reset_password": [
        "I forgot my password",
        "How do I reset my password?",
        "I can't log in, my password doesn't work",
        "Send me a password reset link",
        "Locked out of my account, need a new password",
    ],
}


@pytest.fixture(autouse=True)
def fresh_classifier_cache():
    categories.category_classifier_forget()
    yield
    categories.category_classifier_forget()


def audit_actions(workspace) -> list[str]:
    return list(
        AuditLog.objects.filter(workspace=workspace, action__startswith="category.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def shipped_counts() -> dict[str, int]:
    _, labels = shipped_category_examples()
    return {name: labels.count(name) for name in HIGH_STAKES_CATEGORIES}


def train(workspace, owner, data: dict[str, list[str]] = TRAINING) -> None:
    for name, texts in data.items():
        category = category_create(workspace=workspace, name=name, actor=owner)
        category_examples_add(category=category, texts=texts, actor=owner)


# --- Categories and examples -------------------------------------------------------------------


def test_it_creates_a_category_and_audits_it(workspace, owner):
    category = category_create(
        workspace=workspace, name="  Shipping   delays ", description="Late parcels", actor=owner
    )
    assert category.name == "Shipping delays"
    log = AuditLog.objects.get(workspace=workspace, action="category.create")
    assert log.actor == owner
    assert log.details["name"] == "Shipping delays"


def test_it_refuses_a_duplicate_name_ignoring_case(workspace, owner):
    category_create(workspace=workspace, name="Shipping", actor=owner)
    with pytest.raises(CategoryError, match="already a category"):
        category_create(workspace=workspace, name="shipping", actor=owner)


def test_renaming_and_marking_high_stakes_is_audited_with_before_and_after(workspace, owner):
    category = category_create(workspace=workspace, name="Chargebacks", actor=owner)
    category_update(category=category, name="Card chargebacks", is_high_stakes=True, actor=owner)
    category.refresh_from_db()
    assert category.name == "Card chargebacks" and category.is_high_stakes
    log = AuditLog.objects.get(workspace=workspace, action="category.update")
    assert log.details["changes"] == {
        "name": {"before": "Chargebacks", "after": "Card chargebacks"},
        "is_high_stakes": {"before": False, "after": True},
    }
    # The bot turn reads the marked names from the settings.
    assert bot_settings_get(workspace=workspace).high_stakes_categories == ["Card chargebacks"]

    category_update(category=category, is_high_stakes=False, actor=owner)
    assert bot_settings_get(workspace=workspace).high_stakes_categories == []


def test_an_unchanged_update_writes_nothing(workspace, owner):
    category = category_create(workspace=workspace, name="Shipping", actor=owner)
    category_update(category=category, name="Shipping", description="", actor=owner)
    assert "category.update" not in audit_actions(workspace)


def test_the_out_of_scope_name_is_reserved(workspace, owner):
    shipping = category_create(workspace=workspace, name="Shipping", actor=owner)
    with pytest.raises(CategoryError, match="reserved"):
        category_update(category=shipping, name="out_of_scope", actor=owner)
    negatives = category_create(workspace=workspace, name="OUT_OF_SCOPE", actor=owner)
    assert negatives.name == "out_of_scope"
    with pytest.raises(CategoryError, match="cannot be high stakes"):
        category_update(category=negatives, is_high_stakes=True, actor=owner)
    assert [c.name for c in category_list(workspace=workspace)] == ["Shipping"]


def test_a_shipped_high_stakes_category_cannot_be_unmarked(workspace, owner):
    categories_install_defaults(workspace=workspace, actor=owner)
    legal = IssueCategory.objects.get(workspace=workspace, name="legal_threat")
    with pytest.raises(CategoryError, match="high-stakes rule"):
        category_update(category=legal, is_high_stakes=False, actor=owner)


def test_examples_skip_blanks_and_repeats_and_are_audited(workspace, owner):
    category = category_create(workspace=workspace, name="Shipping", actor=owner)
    added = category_examples_add(
        category=category, texts=["Where is my parcel?", "  ", "where is my parcel?"], actor=owner
    )
    assert [e.text for e in added] == ["Where is my parcel?"]
    assert (
        category_examples_add(category=category, texts=["Where is my parcel?"], actor=owner) == []
    )
    example = added[0]
    assert example.workspace_id == workspace.pk
    assert example.source == CategoryExample.Source.WRITTEN

    category_example_remove(example=example, actor=owner)
    assert not category.examples.exists()
    assert audit_actions(workspace) == [
        "category.create",
        "category.examples_add",
        "category.example_remove",
    ]
    removal = AuditLog.objects.get(action="category.example_remove")
    assert removal.details["text"] == "Where is my parcel?"


def test_deleting_a_category_removes_its_examples_and_keeps_an_audit_row(workspace, owner):
    category = category_create(workspace=workspace, name="Shipping", actor=owner)
    category_examples_add(category=category, texts=["Late parcel", "Lost parcel"], actor=owner)
    category_id = category.pk
    category_delete(category=category, actor=owner)
    assert not CategoryExample.objects.filter(workspace=workspace).exists()
    log = AuditLog.objects.get(action="category.delete")
    assert log.details == {"category_id": category_id, "name": "Shipping", "examples": 2}


# --- Importing labelled tickets ----------------------------------------------------------------


GOOD_CSV = (
    "\ufefftext,label\n"
    "Where is my parcel?,shipping\n"
    '"Hi, I was charged twice, please fix",Billing_Dispute\n'
    "How do I reset my password?,Accounts\n"
    "What's the weather like?,out_of_scope\n"
    "\n"
    "where is my parcel?,Shipping\n"
    '"A ticket\nover two lines",accounts\n'
).encode()


def test_import_creates_categories_and_keeps_out_of_scope_rows_as_negatives(workspace, owner):
    category_create(workspace=workspace, name="Shipping", actor=owner)
    report = category_tickets_import(
        workspace=workspace, data=GOOD_CSV, actor=owner, filename="tickets.csv"
    )

    assert report.rows == 6
    assert report.duplicates == 1  # the repeated parcel question
    assert report.added == {"Accounts": 2, "Billing_Dispute": 1, "Shipping": 1, "out_of_scope": 1}
    assert report.out_of_scope == 1
    assert report.created_categories == ["Billing_Dispute", "Accounts", "out_of_scope"]
    names = {c.name: c.example_count for c in category_list(workspace=workspace)}
    assert names == {"Accounts": 2, "Billing_Dispute": 1, "Shipping": 1}
    negatives = category_out_of_scope(workspace=workspace)
    assert negatives is not None and negatives.example_count == 1
    assert not negatives.is_high_stakes
    ticket = CategoryExample.objects.get(text="A ticket over two lines")
    assert ticket.source == CategoryExample.Source.TICKET
    log = AuditLog.objects.get(action="category.import_tickets")
    assert log.details["filename"] == "tickets.csv" and log.details["rows"] == 6


def test_reimporting_the_same_file_adds_nothing(workspace, owner):
    category_tickets_import(workspace=workspace, data=GOOD_CSV, actor=owner)
    again = category_tickets_import(workspace=workspace, data=GOOD_CSV, actor=owner)
    assert again.added == {} and again.duplicates == 6
    assert CategoryExample.objects.filter(workspace=workspace).count() == 5


def test_an_imported_shipped_label_is_high_stakes(workspace, owner):
    data = b"text,label\nSomeone logged into my account,fraud_account_security\n"
    category_tickets_import(workspace=workspace, data=data, actor=owner)
    assert IssueCategory.objects.get(
        workspace=workspace, name="fraud_account_security"
    ).is_high_stakes


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"", None, "empty"),
        (b"Where is my parcel?,shipping\n", 1, "header"),
        (b"text,category\nWhere is my parcel?,shipping\n", 1, "header"),
        (b"text,label\n", None, "no rows"),
        (b"text,label\nWhere is my parcel?,shipping\n,shipping\n", 3, "text is empty"),
        (b"text,label\nok,shipping\nLate parcel,  \n", 3, "label is empty"),
        (b"text,label\nok,shipping\nno label column here\n", 3, "1 column"),
        (b"text,label\nok,shipping\n\xff\xfe broken,shipping\n", 3, "UTF-8"),
        (b"text,label\nok," + b"x" * 81 + b"\n", 2, "label is 81 characters"),
    ],
    ids=[
        "empty",
        "no-header",
        "wrong-header",
        "header-only",
        "no-text",
        "no-label",
        "short-row",
        "not-utf8",
        "long-label",
    ],
)
def test_a_bad_file_is_refused_with_its_line_and_nothing_is_imported(
    workspace, owner, data, line, reason
):
    with pytest.raises(TicketImportError) as caught:
        category_tickets_import(workspace=workspace, data=data, actor=owner)
    assert caught.value.line == line
    assert reason in str(caught.value)
    if line:
        assert str(caught.value).startswith(f"Line {line}:")
    assert not IssueCategory.objects.filter(workspace=workspace).exists()
    assert not CategoryExample.objects.filter(workspace=workspace).exists()
    assert audit_actions(workspace) == []


def test_a_late_bad_row_leaves_no_category_behind(workspace, owner):
    data = b"text,label\nA brand new topic,newcat\n" + b"fine,newcat\n" * 3 + b",newcat\n"
    with pytest.raises(TicketImportError, match="Line 6"):
        category_tickets_import(workspace=workspace, data=data, actor=owner)
    assert not IssueCategory.objects.filter(workspace=workspace).exists()


# --- Shipped defaults --------------------------------------------------------------------------


def test_installing_defaults_creates_the_four_high_stakes_categories_once(workspace, owner):
    first = categories_install_defaults(workspace=workspace, actor=owner)
    assert sorted(first.created_categories) == sorted(HIGH_STAKES_CATEGORIES)
    assert first.examples_added == sum(shipped_counts().values())
    counts = {c.name: c.example_count for c in category_list(workspace=workspace)}
    assert counts == shipped_counts()
    assert all(c.is_high_stakes for c in category_list(workspace=workspace))
    assert not CategoryExample.objects.exclude(source=CategoryExample.Source.DEFAULT).exists()

    second = categories_install_defaults(workspace=workspace, actor=owner)
    assert second.created_categories == [] and second.examples_added == 0
    assert {c.name: c.example_count for c in category_list(workspace=workspace)} == counts
    assert audit_actions(workspace) == ["category.install_defaults"]


def test_installing_defaults_restores_a_removed_example_and_keeps_edits(workspace, owner):
    categories_install_defaults(workspace=workspace, actor=owner)
    legal = IssueCategory.objects.get(workspace=workspace, name="legal_threat")
    category_update(category=legal, description="Our own words", actor=owner)
    category_example_remove(example=legal.examples.first(), actor=owner)

    report = categories_install_defaults(workspace=workspace, actor=owner)
    assert report.created_categories == [] and report.examples_added == 1
    legal.refresh_from_db()
    assert legal.description == "Our own words"
    assert legal.examples.count() == shipped_counts()["legal_threat"]


def test_defaults_are_per_workspace(workspace, owner, outsider):
    other = workspace_create(name="Third", owner=outsider, slug="third")
    categories_install_defaults(workspace=other)
    assert not IssueCategory.objects.filter(workspace=workspace).exists()


# --- The classifier ----------------------------------------------------------------------------


def test_no_classifier_below_two_categories_with_examples(workspace, owner):
    assert category_classifier_for(workspace=workspace) is None
    shipping = category_create(workspace=workspace, name="Shipping", actor=owner)
    category_create(workspace=workspace, name="Empty", actor=owner)
    category_examples_add(category=shipping, texts=TRAINING["track_order"], actor=owner)
    negatives = category_create(workspace=workspace, name="out_of_scope", actor=owner)
    category_examples_add(category=negatives, texts=["What's the weather?"], actor=owner)
    assert category_classifier_for(workspace=workspace) is None
    assert category_try(workspace=workspace, text="Where is my parcel?") is None


def test_the_classifier_learns_the_workspace_categories_and_keeps_high_stakes(workspace, owner):
    train(workspace, owner)
    classifier = category_classifier_for(workspace=workspace)
    assert classifier is not None
    # The workspace has none of its own: the shipped high-stakes examples fill in.
    assert set(classifier.labels) == {*TRAINING, *HIGH_STAKES_CATEGORIES}

    password, parcel, hacked = classifier.predict(
        [
            "I can't remember my password, how do I get back in?",
            "Has my parcel been sent yet?",
            "A stranger broke into my account and changed the password",
        ]
    )
    assert password.label == "reset_password"
    assert parcel.label == "track_order"
    assert hacked.label == "fraud_account_security"
    assert 0 < password.confidence <= 1

    # Cached until the examples change.
    assert category_classifier_for(workspace=workspace) is classifier
    guess = category_try(workspace=workspace, text="Someone hacked my account")
    assert guess is not None and guess.is_high_stakes


def test_the_cache_follows_new_examples_and_renames(workspace, owner):
    train(workspace, owner)
    first = category_classifier_for(workspace=workspace)
    category = IssueCategory.objects.get(workspace=workspace, name="track_order")
    category_update(category=category, name="where_is_my_order", actor=owner)
    renamed = category_classifier_for(workspace=workspace)
    assert renamed is not first
    assert "where_is_my_order" in renamed.labels and "track_order" not in renamed.labels

    category_examples_add(category=category, texts=["Is my order on its way?"], actor=owner)
    assert category_classifier_for(workspace=workspace) is not renamed


def test_own_high_stakes_examples_replace_the_shipped_ones(workspace, owner):
    train(workspace, owner)
    billing = category_create(workspace=workspace, name="billing_dispute", actor=owner)
    category_examples_add(
        category=billing, texts=["You charged me twice", "This charge is wrong"], actor=owner
    )
    data = categories.category_training_data(workspace=workspace)
    assert data is not None
    texts, labels = data
    assert labels.count("billing_dispute") == 2
    assert labels.count("legal_threat") == shipped_counts()["legal_threat"]
    assert "out_of_scope" not in labels  # the shipped negatives are not added


def test_with_only_the_defaults_ordinary_questions_stay_out_of_scope(workspace, owner):
    categories_install_defaults(workspace=workspace, actor=owner)
    data = categories.category_training_data(workspace=workspace)
    assert data is not None
    assert "out_of_scope" in data[1]  # the shipped negatives teach what is not high stakes
    classifier = category_classifier_for(workspace=workspace)
    assert classifier is not None
    assert set(classifier.labels) == set(HIGH_STAKES_CATEGORIES)
    opening, lawyer = classifier.predict(
        ["What time does your shop open on Saturday?", "I'm speaking to my lawyer about this"]
    )
    assert opening.label is None
    assert lawyer.label == "legal_threat"


def test_with_an_embeddings_provider_imported_tickets_are_embedded_redacted(
    workspace, owner, settings
):
    import uuid

    from supportops.integrations import embeddings
    from supportops.lib.model_standin import ChatCompletionsStandIn

    local = embeddings.get_embedder()  # the offline model computes the stand-in's vectors
    server = ChatCompletionsStandIn(embed=lambda texts: local.embed(texts).tolist()).start()
    settings.EMBEDDING_PROVIDER = "openai"
    settings.EMBEDDING_BASE_URL = server.base_url
    settings.EMBEDDING_MODEL = f"standin-{uuid.uuid4().hex[:8]}"  # no cached vectors apply
    settings.EMBEDDING_API_KEY = server.api_key
    embeddings.get_embedder.cache_clear()
    try:
        train(workspace, owner)
        category_tickets_import(
            workspace=workspace,
            actor=owner,
            data=(
                b"text,label\n"
                b'"I am Joss Whitfield, joss@whitfield.example, +44 7700 900614: '
                b'where is my parcel?",track_order\n'
                b'"my password is Ptarmigan-31 and it will not let me in",reset_password\n'
            ),
        )
        assert category_classifier_for(workspace=workspace) is not None
    finally:
        embeddings.get_embedder.cache_clear()
        server.stop()

    sent = "\n".join(r.text() for r in server.requests if r.path.endswith("/embeddings"))
    assert "where is my parcel?" in sent  # the tickets were embedded by the provider...
    for private in ("joss@whitfield.example", "900614", "Ptarmigan-31", "Joss Whitfield"):
        assert private not in sent, private  # ...redacted first
    assert "[EMAIL]" in sent and "[PASSWORD]" in sent
