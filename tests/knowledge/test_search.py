from __future__ import annotations

from supportops.accounts.models import Workspace
from supportops.knowledge.models import Category
from supportops.knowledge.search import search
from supportops.knowledge.services import article_create, article_unpublish

ARTICLES = [
    ("Where is my order?", "orders", "Open Account > Orders and press Track to follow the parcel."),
    (
        "How do I return an item?",
        "returns",
        "Print the free label and drop the parcel at a post office.",
    ),
    ("Reset a forgotten password", "account", "Use the Forgot password link on the sign-in page."),
    ("Which payment methods do you accept?", "billing", "We take cards, PayPal and bank transfer."),
    (
        "Sleeping bag temperature ratings",
        "products",
        "Comfort rating is the lowest temperature for a relaxed night.",
    ),
    ("Download a copy of my data", "privacy", "Request an export from Settings > Privacy."),
]


def _seed(make_article):
    return {
        title: make_article(title=title, body=body, category=category)
        for title, category, body in ARTICLES
    }


def test_the_paraphrase_finds_the_right_article(make_article, workspace):
    _seed(make_article)
    result = search(workspace=workspace, query="my package hasn't arrived, can I track it?")
    assert result.hits[0].article.title == "Where is my order?"
    top = result.hits[0]
    assert top.fused_score >= top.vector_score > 0
    assert top.chunk.ordinal >= 1  # the passage shown is body text, not the bare title


def test_each_mode_ranks_with_its_own_leg(make_article, workspace):
    _seed(make_article)
    keyword = search(workspace=workspace, query="PayPal", mode="keyword")
    assert keyword.hits[0].article.title == "Which payment methods do you accept?"
    assert all(h.keyword_score > 0 for h in keyword.hits)
    vector = search(
        workspace=workspace, query="how cold can it get in my sleeping bag", mode="vector"
    )
    assert vector.hits[0].article.title == "Sleeping bag temperature ratings"


def test_exact_codes_are_found_by_the_keyword_leg(make_article, workspace):
    _seed(make_article)
    make_article(
        title="Error messages at checkout",
        body="If checkout shows ZX-4411 your card issuer declined the payment.",
    )
    result = search(workspace=workspace, query="ZX-4411")
    assert result.hits[0].article.title == "Error messages at checkout"
    assert result.hits[0].keyword_score == 1.0


def test_unpublished_articles_are_never_found(make_article, workspace, owner):
    articles = _seed(make_article)
    article_unpublish(article=articles["Where is my order?"], actor=owner)
    article_create(
        workspace=workspace, title="Where is my order? (draft)", body="Draft text", owner=owner
    )
    for mode in ("vector", "keyword", "hybrid"):
        titles = [
            h.article.title
            for h in search(workspace=workspace, query="where is my order", mode=mode, k=10).hits
        ]
        assert not any(t.startswith("Where is my order?") for t in titles), mode


def test_search_is_scoped_to_the_workspace(make_article, workspace, outsider):
    _seed(make_article)
    other = Workspace.objects.get(slug="other")
    article_create(
        workspace=other,
        title="Where is my order? Other Co",
        body="Other text.",
        owner=outsider,
        publish=True,
        embed="now",
    )
    for mode in ("vector", "keyword", "hybrid"):
        hits = search(workspace=workspace, query="where is my order", mode=mode, k=10).hits
        assert hits and all(h.article.workspace_id == workspace.pk for h in hits)
    other_hits = search(workspace=other, query="where is my order", k=10).hits
    assert [h.article.title for h in other_hits] == ["Where is my order? Other Co"]


def test_category_filter_still_returns_k_results(make_article, workspace):
    _seed(make_article)
    for n in range(6):
        make_article(
            title=f"Returns question {n}", body=f"Return detail number {n}.", category="returns"
        )
    returns = Category.objects.get(workspace=workspace, slug="returns")
    hits = search(
        workspace=workspace, query="where is my order", k=5, category_ids=[returns.pk]
    ).hits
    assert len(hits) == 5
    assert {h.article.category_id for h in hits} == {returns.pk}


def test_an_empty_query_returns_nothing(make_article, workspace):
    _seed(make_article)
    assert search(workspace=workspace, query="   ").hits == []
    assert search(workspace=workspace, query="?!", mode="keyword").hits == []


def test_a_starved_index_scan_widens_its_beam_before_scanning_exactly(
    make_article, workspace, outsider
):
    """When the nearest chunks in the HNSW index all belong to another workspace, the search
    asks the index again with a wide beam (cheap) instead of scanning the scope exactly."""
    import numpy as np
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from supportops.knowledge.models import Chunk

    _seed(make_article)
    other = Workspace.objects.get(slug="other")
    crowd = article_create(
        workspace=other, title="Crowd", body="Near the query.", owner=outsider, publish=True
    )
    template = Chunk.objects.filter(article=crowd).first()
    assert template is not None
    rng = np.random.default_rng(0)
    query_vector = rng.standard_normal(384).astype(np.float32)
    query_vector /= np.linalg.norm(query_vector)
    near = query_vector + 0.05 * rng.standard_normal((150, 384)).astype(np.float32)
    Chunk.objects.bulk_create(
        Chunk(
            workspace=other,
            article=crowd,
            version_id=template.version_id,
            ordinal=100 + i,
            text=f"crowd {i}",
            embedding=(v / np.linalg.norm(v)).tolist(),
        )
        for i, v in enumerate(near)
    )
    with connection.cursor() as cursor:
        # Use the HNSW index, as the planner does at scale (not a sort of the small table).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    with CaptureQueriesContext(connection) as queries:
        hits = search(
            workspace=workspace, query="orders", query_vector=query_vector, k=5, mode="vector"
        ).hits
    sql = [q["sql"] for q in queries.captured_queries]
    assert any("hnsw.ef_search = 1000" in s for s in sql), "the beam was not widened"
    assert not any("::vector) + 0" in s for s in sql), "it fell back to an exact scan"
    assert len(hits) == 5 and all(h.article.workspace_id == workspace.pk for h in hits)
