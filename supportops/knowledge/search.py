"""Hybrid search over published chunks: a vector leg and a keyword leg, fused per article.

Two stages. Candidates: the nearest chunks by embedding (HNSW) and the best keyword
matches (GIN, any query word). Re-scoring: for every chunk of the candidate articles,
the exact cosine similarity and keyword rank; an article scores a weighted sum of its
title similarity and its best passage similarity, plus a small keyword term normalised
by the query's best keyword rank. Plain reciprocal-rank fusion measured worse than
vectors alone on the FAQ development set (docs/benchmarks.md), so the legs are fused
on scores, with keyword evidence only able to break near-ties.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from supportops.accounts.models import Workspace
from supportops.integrations.embeddings import embed_query

from . import lexicon
from .models import Article, Chunk

MODES = ("vector", "keyword", "hybrid")
HNSW_EF_SEARCH_MAX = 1000  # pgvector's largest hnsw.ef_search
# Chunks fetched from each leg before grouping by article and exact re-scoring.
CANDIDATES = 40
# Weights chosen on the FAQ development queries, in the middle of a plateau rather than
# at its best point (docs/benchmarks.md has the grid).
TITLE_WEIGHT = 0.4  # article vector score = 0.4 * title similarity + 0.6 * best passage
KEYWORD_WEIGHT = 0.04
# Articles re-scored exactly: the best by the vector leg and by the keyword leg.
RESCORE_VECTOR = 24
RESCORE_KEYWORD = 12  # hybrid adds the keyword score, normalised by the query's best


@dataclass
class Hit:
    article_id: int
    chunk_id: int  # the passage shown: the article's best body chunk (or its title)
    vector_score: float = 0.0
    keyword_score: float = 0.0
    fused_score: float = 0.0
    title_similarity: float = 0.0
    passage_similarity: float = 0.0
    article: Article | None = None
    chunk: Chunk | None = None


@dataclass
class SearchResult:
    hits: list[Hit]
    mode: str
    timings_ms: dict[str, float] = field(default_factory=dict)


def _vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in vector.tolist()) + "]"


def _scope_sql(workspace_id: int, category_ids: Sequence[int] | None) -> tuple[str, list[object]]:
    sql = "c.workspace_id = %s"
    params: list[object] = [workspace_id]
    if category_ids:
        sql += " AND c.category_id = ANY(%s)"
        params.append(list(category_ids))
    return sql, params


_WORD = re.compile(r"\w+", re.UNICODE)


def _keyword_text(query: str) -> str:
    return " ".join(_WORD.findall(query))


def _vector_candidates(
    cursor, literal: str, scope: str, params: list[object], limit: int, min_articles: int
) -> dict[int, float]:
    # First the HNSW index. pgvector 0.6 filters after the index scan, so a narrow scope
    # (a small workspace in a big table, or a category filter) can return fewer rows than
    # asked; then an exact scan over the scope guarantees the full candidate set.
    ef_search = max(settings.SEARCH_HNSW_EF_SEARCH, 2 * limit)
    cursor.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
    sql = f"""SELECT c.article_id, c.embedding <=> %s::vector AS distance FROM knowledge_chunk c
              WHERE {scope} AND c.embedding IS NOT NULL
              ORDER BY distance LIMIT %s"""  # noqa: S608 - scope built here
    cursor.execute(sql, [literal, *params, limit])
    rows = cursor.fetchall()
    if len({row[0] for row in rows}) < min_articles and ef_search < HNSW_EF_SEARCH_MAX:
        # A wider beam first: when the nearest chunks belong to another workspace or to a
        # few articles, it finds enough in milliseconds, where an exact scan of a big scope
        # takes a quarter of a second at 100k chunks.
        cursor.execute(f"SET LOCAL hnsw.ef_search = {HNSW_EF_SEARCH_MAX}")
        cursor.execute(sql, [literal, *params, limit])
        rows = cursor.fetchall()
    if len({row[0] for row in rows}) < min_articles:
        # "+ 0" keeps the planner off the HNSW index: an exact, filtered scan.
        exact = sql.replace("ORDER BY distance", "ORDER BY (c.embedding <=> %s::vector) + 0")
        cursor.execute(exact, [literal, *params, literal, limit])
        rows = cursor.fetchall()
    best: dict[int, float] = {}
    for article_id, distance in rows:
        best.setdefault(article_id, 1 - float(distance))
    return best


def _keyword_candidates(
    cursor, text: str, workspace_id: int, scope: str, params: list[object], limit: int
) -> tuple[dict[int, float], str]:
    """Articles whose chunks best match any informative query word, and that tsquery.

    Words that occur in a large share of the workspace's chunks are dropped from the
    candidate query (they carry almost no evidence, like BM25's low IDF terms) so that
    the number of rows to rank stays bounded at any scale.
    """
    cursor.execute("SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', %s)))", [text])
    lexemes = [row[0] for row in cursor.fetchall()]
    common = lexicon.common_lexemes(workspace_id)
    informative = [lx for lx in lexemes if lx not in common]
    if not informative:
        return {}, ""
    query = " | ".join("'" + lx.replace("'", "''") + "'" for lx in informative)
    cursor.execute(
        f"""SELECT c.article_id, ts_rank(c.search_vector, q.query, 32) AS rank
            FROM knowledge_chunk c, (SELECT %s::tsquery AS query) q
            WHERE {scope} AND c.search_vector @@ q.query
            ORDER BY rank DESC LIMIT %s""",  # noqa: S608
        [query, *params, limit],
    )
    best: dict[int, float] = {}
    for article_id, rank in cursor.fetchall():
        best.setdefault(article_id, float(rank))
    return best, query


def _rescore(
    cursor,
    article_ids: set[int],
    literal: str | None,
    tsquery: str,
    scope: str,
    params: list[object],
) -> list[tuple[int, int, int, float, float]]:
    """Exact vector similarity and keyword rank (cover density, which measured better
    than plain frequency in fusion) for every chunk of the candidate articles."""
    similarity = "1 - (c.embedding <=> %s::vector)" if literal else "0"
    cursor.execute(
        f"""SELECT c.id, c.article_id, c.ordinal, COALESCE({similarity}, 0),
                   CASE WHEN q.query IS NOT NULL AND c.search_vector @@ q.query
                        THEN ts_rank_cd(c.search_vector, q.query, 32) ELSE 0 END
            FROM knowledge_chunk c, (SELECT NULLIF(%s, '')::tsquery AS query) q
            WHERE {scope} AND c.article_id = ANY(%s)""",  # noqa: S608
        [*([literal] if literal else []), tsquery, *params, list(article_ids)],
    )
    return cursor.fetchall()


def _top(scores: dict[int, float], n: int) -> set[int]:
    return set(sorted(scores, key=lambda a: -scores[a])[:n])


def _fuse(
    rows: list[tuple[int, int, int, float, float]], mode: str, keyword_articles: set[int]
) -> list[Hit]:
    hits: dict[int, Hit] = {}
    best_keyword = max((float(row[4]) for row in rows), default=0.0)
    best_passage: dict[int, float] = {}
    for chunk_id, article_id, ordinal, similarity, rank in rows:
        hit = hits.setdefault(article_id, Hit(article_id=article_id, chunk_id=chunk_id))
        similarity, rank = float(similarity), float(rank)
        if ordinal == 0:
            hit.title_similarity = similarity
        elif similarity > best_passage.get(article_id, -2.0):
            best_passage[article_id] = similarity
            hit.passage_similarity, hit.chunk_id = similarity, chunk_id
        if best_keyword > 0:
            hit.keyword_score = max(hit.keyword_score, min(rank / best_keyword, 1.0))
    for hit in hits.values():
        if hit.article_id not in best_passage:  # an article with a title and no body
            hit.passage_similarity = hit.title_similarity
        hit.vector_score = (
            TITLE_WEIGHT * hit.title_similarity + (1 - TITLE_WEIGHT) * hit.passage_similarity
        )
        if mode == "vector":
            hit.fused_score = hit.vector_score
        elif mode == "keyword":
            hit.fused_score = hit.keyword_score
        else:
            hit.fused_score = hit.vector_score + KEYWORD_WEIGHT * hit.keyword_score
    ranked = list(hits.values())
    if mode == "keyword":
        ranked = [h for h in ranked if h.article_id in keyword_articles and h.keyword_score > 0]
    ranked.sort(key=lambda h: (-h.fused_score, h.article_id))
    return ranked


def search(
    *,
    workspace: Workspace | int,
    query: str,
    k: int = 5,
    mode: str = "hybrid",
    category_ids: Sequence[int] | None = None,
    query_vector: np.ndarray | None = None,
    load: bool = True,
) -> SearchResult:
    """Rank the workspace's published articles for `query`; one hit per article.

    Every hit carries its best passage and the leg scores, so callers (the bot, the
    "Try a question" panel) can show why it ranked where it did.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    query = (query or "").strip()
    timings: dict[str, float] = {}
    if not query:
        return SearchResult(hits=[], mode=mode, timings_ms=timings)
    limit = max(CANDIDATES, k * 8)
    if mode in ("vector", "hybrid") and query_vector is None:
        started = time.perf_counter()
        query_vector = embed_query(query)
        timings["embed"] = (time.perf_counter() - started) * 1000
    literal = (
        _vector_literal(query_vector) if query_vector is not None and mode != "keyword" else None
    )
    text = _keyword_text(query)
    scope, params = _scope_sql(workspace_id, category_ids)
    started = time.perf_counter()
    candidates: set[int] = set()
    keyword_best: dict[int, float] = {}
    tsquery = ""
    with transaction.atomic(), connection.cursor() as cursor:
        if literal:
            vector_best = _vector_candidates(cursor, literal, scope, params, limit, k)
            candidates |= _top(vector_best, max(RESCORE_VECTOR, k))
        if text:
            keyword_best, tsquery = _keyword_candidates(
                cursor, text, workspace_id, scope, params, limit
            )
            if mode != "vector":
                candidates |= _top(keyword_best, max(RESCORE_KEYWORD, k))
        rows = _rescore(cursor, candidates, literal, tsquery, scope, params) if candidates else []
    timings["search"] = (time.perf_counter() - started) * 1000
    hits = _fuse(rows, mode, set(keyword_best))[:k]
    if load and hits:
        articles = (
            Article.objects.select_related("category")
            .only("id", "title", "external_id", "status", "source_url", "category__name")
            .in_bulk([h.article_id for h in hits])
        )
        chunks = Chunk.objects.only("id", "article_id", "ordinal", "heading", "text").in_bulk(
            [h.chunk_id for h in hits]
        )
        for hit in hits:
            hit.article, hit.chunk = articles.get(hit.article_id), chunks.get(hit.chunk_id)
    return SearchResult(hits=hits, mode=mode, timings_ms=timings)
