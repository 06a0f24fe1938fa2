from __future__ import annotations

import io
import itertools
import json
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings

from supportops.accounts.services import workspace_create, workspace_delete_scratch
from supportops.integrations.embeddings import embed_query, embed_texts, get_embedder
from supportops.integrations.modeltext import clear
from supportops.knowledge.importing import ImportItem, items_write, parse_path
from supportops.knowledge.models import Article, ArticleVersion, Chunk
from supportops.knowledge.search import search
from supportops.knowledge.services import embedding_text
from supportops.lib.commands import database_ready, http_server, percentile, print_json

DEMO_CONTENT = Path(__file__).resolve().parents[2] / "demo_content" / "articles"
TOPICS = 400  # synthetic vectors cluster around topics, like real help-centre passages
CHUNKS_PER_ARTICLE = 5


# Frequent words first, so the Zipf draw gives text shaped like a help centre: function
# words (dropped by the full-text parser), then the domain's everyday words, then a long
# tail of rare made-up words (product names, codes) that only a few passages share.
COMMON_WORDS = [
    "the",
    "to",
    "you",
    "your",
    "and",
    "a",
    "of",
    "is",
    "in",
    "for",
    "it",
    "we",
    "can",
    "on",
    "if",
    "be",
    "this",
    "with",
    "or",
    "that",
    "are",
    "will",
    "an",
    "as",
    "from",
    "by",
    "at",
    "not",
    "our",
    "have",
    "please",
    "when",
    "do",
    "how",
    "order",
    "account",
    "refund",
    "payment",
    "delivery",
    "return",
    "item",
    "days",
    "email",
    "password",
    "card",
    "address",
    "change",
    "cancel",
    "shipping",
    "store",
    "help",
    "team",
    "support",
    "time",
    "working",
    "number",
    "code",
    "link",
    "app",
    "settings",
    "page",
    "contact",
    "receive",
    "send",
    "check",
    "update",
    "within",
    "after",
    "before",
    "new",
    "open",
    "sign",
    "free",
    "standard",
    "express",
    "warranty",
    "store",
    "credit",
    "gift",
    "balance",
    "invoice",
    "receipt",
    "charge",
    "pending",
    "bank",
    "transfer",
    "size",
    "colour",
    "stock",
    "product",
    "tent",
    "jacket",
    "boot",
    "bag",
    "battery",
    "delete",
    "data",
    "privacy",
    "consent",
    "cookie",
]


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    rare: set[str] = set()
    while len(rare) < size:
        length = rng.randint(2, 3)
        rare.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(length)))
    return COMMON_WORDS + sorted(rare - set(COMMON_WORDS))


def _summary(values: list[float]) -> dict[str, float]:
    return {name: percentile(values, q) for name, q in (("p50", 50), ("p95", 95), ("p99", 99))}


class Synthetic:
    """Zipf-distributed words and topic-clustered unit vectors, reproducible from a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.words = _vocabulary(self.rng)
        weights = 1 / np.arange(1, len(self.words) + 1) ** 1.07
        self.cumulative = np.cumsum(weights / weights.sum())
        self.centres = self._unit(self.np_rng.standard_normal((TOPICS, 384)))

    @staticmethod
    def _unit(m: np.ndarray) -> np.ndarray:
        return (m / np.linalg.norm(m, axis=-1, keepdims=True)).astype(np.float32)

    def text(self, n_words: int) -> str:
        picks = np.searchsorted(self.cumulative, self.np_rng.random(n_words))
        return " ".join(self.words[min(i, len(self.words) - 1)] for i in picks)

    def vectors(self, n: int) -> np.ndarray:
        topics = self.np_rng.integers(0, TOPICS, n)
        noise = self.np_rng.standard_normal((n, 384)).astype(np.float32) * 0.045
        return self._unit(self.centres[topics] + noise)


class Command(BaseCommand):
    help = (
        "Benchmark hybrid search at N chunks (synthetic vectors and text) in a scratch workspace."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunks", type=int, default=100_000)
        parser.add_argument("--queries", type=int, default=200)
        parser.add_argument(
            "--ingest-articles",
            type=int,
            default=60,
            help="articles pushed through the real ingest pipeline (model included)",
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--keep", action="store_true")

    def handle(self, *args, **opts):
        database_ready(self, opts)
        synthetic = Synthetic(opts["seed"])
        workspace = workspace_create(name=f"bench {uuid.uuid4().hex[:8]}", is_scratch=True)
        try:
            build_s = self._load(workspace, synthetic, opts["chunks"])
            search_ms, with_embedding_ms = self._search(workspace, synthetic, opts["queries"])
            ingest, embed_only, replayed = self._ingest(synthetic, opts["ingest_articles"])
        finally:
            if not opts["keep"]:
                workspace_delete_scratch(workspace=workspace)
                _vacuum()  # the next run's timings would otherwise share the CPU with autovacuum
        result = {
            "chunks": opts["chunks"],
            "build_s": build_s,
            "search_ms": search_ms,
            "with_embedding_ms": with_embedding_ms,
            "ingest_chunks_per_s": ingest,
            # Parts of the figures above, to show where the time goes:
            "store_chunks_per_s": opts["chunks"] / build_s,  # text + vector into GIN and HNSW
            "embed_chunks_per_s": embed_only,  # the embedding model alone, same texts
            # The whole pipeline again, the model's vectors for the same texts served over the
            # OpenAI-compatible embeddings protocol: ingestion with a remote embedding provider.
            "ingest_replayed_embeddings_chunks_per_s": replayed,
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(repr(result))

    def _load(self, workspace, synthetic: Synthetic, n_chunks: int) -> float:
        """Bulk-load chunks (text, tsvector, vector) through the live GIN and HNSW indexes."""
        n_articles = max(1, n_chunks // CHUNKS_PER_ARTICLE)
        with transaction.atomic():
            articles = Article.objects.bulk_create(
                Article(
                    workspace=workspace,
                    title=synthetic.text(6),
                    body="",
                    status="published",
                    external_id=f"bench-{i}",
                    version_number=1,
                    index_state="ready",
                )
                for i in range(n_articles)
            )
            versions = ArticleVersion.objects.bulk_create(
                ArticleVersion(article=a, number=1, title=a.title, status="published")
                for a in articles
            )
        started = time.perf_counter()
        vectors = synthetic.vectors(n_chunks)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_chunk (article_id bigint, version_id bigint,"
                " ordinal int, heading text, body text, embedding vector(384)) ON COMMIT DROP"
            )
            buffer = io.StringIO()
            for i in range(n_chunks):
                a = i // CHUNKS_PER_ARTICLE % n_articles
                vec = "[" + ",".join(f"{x:.5f}" for x in vectors[i]) + "]"
                buffer.write(
                    f"{articles[a].pk}\t{versions[a].pk}\t{i % CHUNKS_PER_ARTICLE}\t"
                    f"{synthetic.text(4)}\t{synthetic.text(110)}\t{vec}\n"
                )
            buffer.seek(0)
            with cursor.copy("COPY bench_chunk FROM STDIN") as copy:
                while data := buffer.read(1 << 20):
                    copy.write(data)
            cursor.execute(
                """INSERT INTO knowledge_chunk
                     (workspace_id, article_id, version_id, category_id, ordinal, heading, text,
                      search_vector, embedding)
                   SELECT %s, article_id, version_id, NULL, ordinal, heading, body,
                          setweight(to_tsvector('english', heading), 'B')
                          || setweight(to_tsvector('english', body), 'C'),
                          embedding
                   FROM bench_chunk""",
                [workspace.pk],
            )
        # Vacuum as well as analyse: it merges the GIN index's pending list and sets the
        # visibility map, which autovacuum would otherwise do in the middle of the timings.
        _vacuum()
        return time.perf_counter() - started

    def _search(self, workspace, synthetic: Synthetic, n_queries: int):
        texts = [synthetic.text(random.Random(i).randint(4, 12)) for i in range(n_queries)]
        vectors = synthetic.vectors(n_queries)
        for text, vector in zip(texts[:10], vectors[:10], strict=True):  # warm caches
            search(workspace=workspace, query=text, query_vector=vector, load=False)
        search_ms, with_embedding_ms = [], []
        for text, vector in zip(texts, vectors, strict=True):
            started = time.perf_counter()
            result = search(workspace=workspace, query=text, query_vector=vector, k=5)
            search_ms.append((time.perf_counter() - started) * 1000)
            assert len(result.hits) == 5, "search must return k results at any scale"
        embed_query("warm up the model")
        for text in texts:
            started = time.perf_counter()
            search(workspace=workspace, query=text, k=5)
            with_embedding_ms.append((time.perf_counter() - started) * 1000)
        return _summary(search_ms), _summary(with_embedding_ms)

    def _ingest(self, synthetic: Synthetic, n_articles: int) -> tuple[float, float, float]:
        """Real pipeline on real-shaped text: parse, chunk, tsvector, embed with the configured
        model, store. The text is the demo help centre (Markdown written for this project),
        repeated to n articles; without it, synthetic sections. Then the model alone on the
        same texts, and the pipeline once more with those vectors replayed by a local server
        that speaks the OpenAI embeddings protocol (the model's cost taken out)."""
        items = self._ingest_items(synthetic, n_articles)
        embed_query("warm up")
        rate, texts = self._ingest_once(items)
        started = time.perf_counter()
        vectors = embed_texts(texts)
        embed_only = len(texts) / (time.perf_counter() - started)
        # Keyed as the provider sends them: redacted first (integrations.modeltext.clear).
        recorded = dict(zip((clear(t) for t in texts), vectors.tolist(), strict=True))
        with _replayed_embeddings(recorded):
            replayed, _ = self._ingest_once(items)
        return rate, embed_only, replayed

    def _ingest_once(self, items: list[ImportItem]) -> tuple[float, list[str]]:
        scratch = workspace_create(name=f"ingest {uuid.uuid4().hex[:8]}", is_scratch=True)
        try:
            started = time.perf_counter()
            items_write(workspace=scratch, items=items, embed="now")
            elapsed = time.perf_counter() - started
            chunks = list(Chunk.objects.filter(workspace=scratch).select_related("article"))
            if any(c.embedding is None for c in chunks):
                raise CommandError("the ingest run left chunks without an embedding")
        finally:
            workspace_delete_scratch(workspace=scratch)
        texts = [
            embedding_text(title=c.article.title, heading=c.heading, text=c.text) for c in chunks
        ]
        return len(chunks) / elapsed, texts

    def _ingest_items(self, synthetic: Synthetic, n_articles: int) -> list[ImportItem]:
        if DEMO_CONTENT.exists():
            demo = parse_path(DEMO_CONTENT)
            return [
                ImportItem(
                    title=item.title,
                    body=item.body,
                    category=item.category,
                    external_id=f"ingest-{n}",
                )
                for n, item in zip(range(n_articles), itertools.cycle(demo), strict=False)
            ]
        rng = random.Random(11)
        items = []
        for i in range(n_articles):
            sections = [
                f"## {synthetic.text(4).capitalize()}\n\n"
                + "\n\n".join(
                    synthetic.text(rng.randint(25, 70)) + "." for _ in range(rng.randint(1, 3))
                )
                for _ in range(rng.randint(2, 4))
            ]
            items.append(
                ImportItem(
                    title=synthetic.text(7).capitalize() + "?",
                    body="\n\n".join(sections),
                    external_id=f"ingest-{i}",
                )
            )
        return items


def _vacuum() -> None:
    """VACUUM ANALYZE the chunk table; inside a transaction (the tests) only ANALYZE can run."""
    vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(f"{vacuum} knowledge_chunk")


@contextmanager
def _replayed_embeddings(vectors: dict[str, list[float]]) -> Iterator[str]:
    """Serve known vectors over POST /v1/embeddings and point the embedding provider at it."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            unknown = [text for text in body["input"] if text not in vectors]
            status, payload = (
                (400, {"error": {"message": f"no recorded vector for {unknown[0][:60]!r}"}})
                if unknown
                else (
                    200,
                    {
                        "object": "list",
                        "model": body["model"],
                        "data": [
                            {"object": "embedding", "index": i, "embedding": vectors[text]}
                            for i, text in enumerate(body["input"])
                        ],
                    },
                )
            )
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    get_embedder.cache_clear()
    try:
        with (
            http_server(Handler) as origin,
            override_settings(
                EMBEDDING_PROVIDER="openai",
                EMBEDDING_BASE_URL=f"{origin}/v1",
                EMBEDDING_MODEL="replayed",
            ),
        ):
            yield f"{origin}/v1"
    finally:
        get_embedder.cache_clear()
