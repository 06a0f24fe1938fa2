from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from supportops.accounts.models import Workspace
from supportops.knowledge.models import Article

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval" / "faq-retrieval"


def run_json(*args: str) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, "a --json command prints exactly one line on stdout"
    return json.loads(lines[0])


def test_kb_import_reports_articles_by_their_ids(workspace, tmp_path):
    path = tmp_path / "kb.jsonl"
    path.write_text(
        '{"id": "k-1", "title": "Tracking", "body": "Use the link.", "category": "orders"}\n'
        '{"id": "k-2", "title": "Refunds", "body": "Five to ten days."}\n'
    )
    result = run_json("kb_import", str(path), "--workspace", workspace.slug)
    assert (result["created"], result["updated"], result["articles"]) == (["k-1", "k-2"], [], 2)
    assert Article.objects.filter(workspace=workspace, status="published").count() == 2


def test_kb_import_refuses_a_bad_file_and_imports_nothing(workspace, tmp_path, capsys):
    path = tmp_path / "kb.jsonl"
    path.write_text('{"title": "Fine", "body": "x"}\n{"title": "Broken", "body": \n')
    with pytest.raises(SystemExit):
        call_command("kb_import", str(path), "--workspace", workspace.slug, "--json")
    error = json.loads(capsys.readouterr().out)["error"]
    assert error.startswith(f"{path}, line 2: malformed JSON") or "line 2: malformed JSON" in error
    assert not Article.objects.filter(workspace=workspace).exists()


def test_kb_eval_uses_a_scratch_workspace_and_reports_every_mode(workspace, tmp_path):
    articles = tmp_path / "a.jsonl"
    queries = tmp_path / "q.jsonl"
    articles.write_text(
        "\n".join(
            json.dumps(a)
            for a in [
                {
                    "id": "t",
                    "title": "Track a parcel",
                    "body": "Use the tracking link in the email.",
                },
                {"id": "p", "title": "Reset a password", "body": "Click Forgot password."},
                {"id": "r", "title": "Return an item", "body": "Print the label within 30 days."},
            ]
        )
    )
    queries.write_text(
        '{"query": "where is my package", "article_id": "t"}\n'
        '{"query": "I forgot my login", "article_id": "p"}\n'
    )
    before = set(Workspace.objects.values_list("pk", flat=True))
    result = run_json("kb_eval", "--articles", str(articles), "--queries", str(queries))
    assert set(result) == {"vector", "keyword", "hybrid"}
    assert result["hybrid"]["n"] == 2 and result["hybrid"]["recall@1"] == 1.0
    assert set(result["vector"]) == {"recall@1", "recall@5", "mrr", "p50_ms", "p95_ms", "n"}
    assert set(Workspace.objects.values_list("pk", flat=True)) == before  # scratch removed


def test_bench_retrieval_small_run(db):
    result = run_json(
        "bench_retrieval", "--chunks", "600", "--queries", "20", "--ingest-articles", "3"
    )
    assert result["chunks"] == 600
    assert set(result["search_ms"]) == {"p50", "p95", "p99"}
    assert result["ingest_chunks_per_s"] > 0 and result["build_s"] > 0
    # the replayed leg ran the whole pipeline through the OpenAI-compatible provider
    assert result["ingest_replayed_embeddings_chunks_per_s"] > 0
    assert not Workspace.objects.filter(is_scratch=True).exists()


@pytest.mark.eval
@pytest.mark.skipif(
    not EVAL.exists(), reason="../shared/eval is absent (only CI and developers have it)"
)
def test_faq_retrieval_meets_its_targets(db):
    result = run_json(
        "kb_eval",
        "--articles",
        str(EVAL / "articles.jsonl"),
        "--queries",
        str(EVAL / "queries-dev.jsonl"),
    )
    hybrid = result["hybrid"]
    assert hybrid["recall@1"] >= 0.96
    assert hybrid["recall@5"] >= 0.995
    assert hybrid["mrr"] >= 0.975
    best_leg = max(result["vector"]["mrr"], result["keyword"]["mrr"])
    assert hybrid["mrr"] >= best_leg
