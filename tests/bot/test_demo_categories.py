"""The demo workspace's issue categories: human names, enough examples, idempotent seed."""

from __future__ import annotations

from supportops.bot.categories import category_classifier_forget, category_try
from supportops.bot.demo import DEMO_CATEGORIES, demo_categories_seed
from supportops.bot.models import IssueCategory


def test_demo_categories_have_human_names_and_15_to_30_examples(workspace):
    report = demo_categories_seed(workspace=workspace)
    assert report.created == [c.name for c in DEMO_CATEGORIES]
    for demo in DEMO_CATEGORIES:
        category = IssueCategory.objects.get(workspace=workspace, name=demo.name)
        assert "_" not in category.name and category.name[0].isupper()
        assert 15 <= category.examples.count() <= 30
        assert category.description and not category.is_high_stakes


def test_seeding_twice_changes_nothing(workspace):
    demo_categories_seed(workspace=workspace)
    IssueCategory.objects.filter(workspace=workspace, name="Product questions").update(
        description="Edited by the team"
    )
    count = IssueCategory.objects.filter(workspace=workspace).count()
    again = demo_categories_seed(workspace=workspace)
    assert (again.created, again.examples_added) == ([], 0)
    assert IssueCategory.objects.filter(workspace=workspace).count() == count
    assert IssueCategory.objects.get(name="Product questions").description == "Edited by the team"


def test_the_demo_classifier_routes_new_messages_to_the_right_category(workspace):
    demo_categories_seed(workspace=workspace)
    category_classifier_forget(workspace=workspace)
    # Phrased differently from every example, as a customer would write on the first run.
    expected = {
        "my parcel with the hiking pack is late, where is it": "Orders and delivery",
        "these boots pinch, I'd like to send them back for my money": "Returns and refunds",
        "can I get an invoice for my order": "Billing and payments",
        "is this sleeping bag warm enough for minus five": "Product questions",
        "the tent pole broke on my first trip": "Repairs and warranty",
    }
    guesses = {text: category_try(workspace=workspace, text=text) for text in expected}
    for text, name in expected.items():
        guess = guesses[text]
        assert guess is not None and guess.category is not None, text
        assert guess.category.name == name, (text, guess.prediction)
