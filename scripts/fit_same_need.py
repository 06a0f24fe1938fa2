"""Choose the thresholds of the outcome ledger's same-need rule (supportops/analytics/need.py)
by cross-validation on the project's own pairs, and write them to
supportops/analytics/data/same_need_params.json.

Run: HF_HUB_OFFLINE=1 .venv/bin/python scripts/fit_same_need.py [--write]

Data: supportops/analytics/data/same_need_questions.csv (domain, need, question) and
same_need_articles.csv (one help article per need). The articles are indexed in a scratch
workspace and every question is searched with the product's hybrid search, as the ledger
reads a conversation's article; questions are embedded with the product's embedder.

Pairs: every pair of questions within a domain (same need: positive; another need of the
same domain, a close one: negative) plus as many cross-domain pairs (negatives), drawn with
a fixed seed. Every fourth domain (sorted by name) is held apart and scored once at the end;
the others choose the thresholds by grouped 5-fold cross-validation (folds by domain, so a
domain's questions never sit on both sides). Objective: F1 of "same need".
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportops.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from supportops.accounts.services import workspace_create, workspace_delete_scratch  # noqa: E402
from supportops.analytics.need import NeedParams, decide  # noqa: E402
from supportops.integrations.embeddings import embed_texts  # noqa: E402
from supportops.knowledge.importing import rows_index_now  # noqa: E402
from supportops.knowledge.models import Article  # noqa: E402
from supportops.knowledge.search import search  # noqa: E402
from supportops.lib.schema import schema_ensure  # noqa: E402

DATA = ROOT / "supportops" / "analytics" / "data"
PARAMS = DATA / "same_need_params.json"
QUESTION_GRID = [round(x, 2) for x in np.arange(0.50, 0.96, 0.01)]
ARTICLE_GRID = [round(x, 2) for x in np.arange(0.0, 0.81, 0.02)]
SCORE_GRID = [0.0, 0.2, 0.3, 0.4, 0.5]


def _read(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines))


def features() -> tuple[list[dict], np.ndarray]:
    questions = _read("same_need_questions.csv")
    articles = _read("same_need_articles.csv")
    workspace = workspace_create(name=f"same_need_fit {uuid.uuid4().hex[:8]}", is_scratch=True)
    try:
        rows_index_now(
            workspace=workspace,
            rows=[
                {"id": f"{a['domain']}/{a['need']}", "title": a["title"], "body": a["body"]}
                for a in articles
            ],
            source_file="same_need_articles.csv",
        )
        external = dict(
            Article.objects.filter(workspace=workspace).values_list("pk", "external_id")
        )
        vectors = embed_texts([q["text"] for q in questions])
        for q, vector in zip(questions, vectors, strict=True):
            hits = search(workspace=workspace, query=q["text"], k=3, query_vector=vector).hits
            q["top"] = external.get(hits[0].article_id) if hits else None
            q["top_score"] = hits[0].fused_score if hits else 0.0
    finally:
        workspace_delete_scratch(workspace=workspace)
    return questions, np.asarray(vectors)


def pairs(questions: list[dict], vectors: np.ndarray, seed: int = 13) -> list[dict]:
    out = []
    by_domain: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        by_domain.setdefault(q["domain"], []).append(i)
    for members in by_domain.values():
        for i, j in itertools.combinations(members, 2):
            out.append(_pair(questions, vectors, i, j))
    rng = random.Random(seed)
    within = len(out)
    while len(out) < 2 * within:
        i, j = rng.sample(range(len(questions)), 2)
        if questions[i]["domain"] != questions[j]["domain"]:
            out.append(_pair(questions, vectors, i, j))
    return out


def _pair(questions, vectors, i, j) -> dict:
    a, b = questions[i], questions[j]
    return {
        "domain": a["domain"] if a["domain"] == b["domain"] else f"{a['domain']}+{b['domain']}",
        "group": a["domain"],
        "same": a["domain"] == b["domain"] and a["need"] == b["need"],
        "similarity": float(vectors[i] @ vectors[j]),
        "tops": (a["top"], a["top_score"], b["top"], b["top_score"]),
    }


def predict(rows: list[dict], params: NeedParams) -> np.ndarray:
    out = []
    for row in rows:
        top_a, score_a, top_b, score_b = row["tops"]
        out.append(
            decide(
                similarity=row["similarity"],
                top_a=hash(top_a) if top_a and score_a >= params.min_article_score else None,
                top_b=hash(top_b) if top_b and score_b >= params.min_article_score else None,
                category_a="",
                category_b="",
                params=params,
            ).same
        )
    return np.asarray(out)


def scores(rows: list[dict], params: NeedParams) -> dict[str, float]:
    truth = np.asarray([r["same"] for r in rows])
    guess = predict(rows, params)
    tp = int((truth & guess).sum())
    fp = int((~truth & guess).sum())
    fn = int((truth & ~guess).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "positives": int(truth.sum()),
        "n": len(rows),
    }


def best(rows: list[dict], *, articles: bool = True) -> tuple[NeedParams, dict[str, float]]:
    """The thresholds with the best F1 on `rows`; `articles=False`: the question rule alone
    (the article rule switched off), for comparison."""
    found = None
    for q in QUESTION_GRID:
        for a in ARTICLE_GRID if articles else [2.0]:
            if articles and a > q:
                continue
            for m in SCORE_GRID if articles else [1.0]:
                params = NeedParams(question_threshold=q, article_threshold=a, min_article_score=m)
                result = scores(rows, params)
                # Ties go to the stricter rule (fewer repeat contacts claimed).
                key = (round(result["f1"], 6), q, a, m)
                if found is None or key > found[0]:
                    found = (key, params, result)
    assert found is not None
    return found[1], found[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="write same_need_params.json")
    args = parser.parse_args()
    schema_ensure(stderr=sys.stderr)
    questions, vectors = features()
    rows = pairs(questions, vectors)
    domains = sorted({q["domain"] for q in questions})
    held = set(domains[3::4])
    train = [r for r in rows if r["group"] not in held and not set(r["domain"].split("+")) & held]
    test = [r for r in rows if set(r["domain"].split("+")) <= held]
    folds = []
    groups = [r["group"] for r in train]
    for fit_idx, score_idx in GroupKFold(n_splits=5).split(train, groups=groups):
        params, _ = best([train[i] for i in fit_idx])
        folds.append(scores([train[i] for i in score_idx], params))
    params, fitted = best(train)
    held_out = scores(test, params)
    question_only, _ = best(train, articles=False)
    report = {
        "question_threshold": params.question_threshold,
        "article_threshold": params.article_threshold,
        "min_article_score": params.min_article_score,
        "method": "grid search maximising F1 on the training domains' pairs; "
        "grouped 5-fold CV by domain; every fourth domain held apart",
        "pairs": {"train": len(train), "held_apart": len(test)},
        "held_apart_domains": sorted(held),
        "cv": {
            k: round(float(np.mean([f[k] for f in folds])), 4)
            for k in ("precision", "recall", "f1")
        },
        "train": {k: round(v, 4) for k, v in fitted.items()},
        "held_apart": {k: round(v, 4) for k, v in held_out.items()},
        "question_only": {
            "question_threshold": question_only.question_threshold,
            "held_apart": {k: round(v, 4) for k, v in scores(test, question_only).items()},
        },
    }
    print(json.dumps(report, indent=2))
    if args.write:
        PARAMS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
