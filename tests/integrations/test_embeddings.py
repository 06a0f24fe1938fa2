"""The OpenAI-compatible embeddings provider against a local stand-in server that speaks
the real `POST /v1/embeddings` protocol."""

from __future__ import annotations

import hashlib
import json
from http.server import BaseHTTPRequestHandler

import numpy as np
import pytest
from django.test import override_settings

from supportops.integrations import embeddings
from supportops.integrations.embeddings import (
    EmbeddingError,
    LocalEmbedder,
    OpenAIEmbedder,
    embed_query,
    embed_query_cached,
    embed_texts,
    embed_texts_cached,
    get_embedder,
)
from supportops.lib.commands import http_server


class _Handler(BaseHTTPRequestHandler):
    requests: list[dict] = []
    fail_with: int | None = None

    def do_POST(self):  # noqa: N802 - http.server naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "auth": self.headers["Authorization"], "body": body}
        )
        if type(self).fail_with:
            self.send_response(type(self).fail_with)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "rate limited"}}')
            return
        data = []
        for index, text in enumerate(body["input"]):
            seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
            vector = np.random.default_rng(seed).standard_normal(body.get("dimensions", 384))
            data.append({"object": "embedding", "index": index, "embedding": vector.tolist()})
        payload = {
            "object": "list",
            "data": list(reversed(data)),
            "model": body["model"],
            "usage": {"prompt_tokens": 5, "total_tokens": 5},
        }
        raw = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.requests, _Handler.fail_with = [], None
    with http_server(_Handler) as origin:
        yield f"{origin}/v1"


def test_openai_provider_speaks_the_embeddings_protocol(server):
    embedder = OpenAIEmbedder(
        base_url=server, model="text-embedding-3-small", api_key="sk-test", timeout=5
    )
    vectors = embedder.embed(["first", "second"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    # Rows come back out of order; the provider sorts them by index.
    again = embedder.embed(["second"])
    assert np.allclose(vectors[1], again[0])
    request = _Handler.requests[0]
    assert request["path"] == "/v1/embeddings"
    assert request["auth"] == "Bearer sk-test"
    assert request["body"] == {
        "model": "text-embedding-3-small",
        "input": ["first", "second"],
        "dimensions": 384,
    }


def test_openai_provider_errors_are_retryable_errors(server):
    _Handler.fail_with = 429
    embedder = OpenAIEmbedder(base_url=server, model="m", api_key="k", timeout=5)
    with pytest.raises(EmbeddingError, match="429"):
        embedder.embed(["x"])
    unreachable = OpenAIEmbedder(
        base_url="http://127.0.0.1:9/v1", model="m", api_key="k", timeout=2
    )
    with pytest.raises(EmbeddingError):
        unreachable.embed(["x"])


def test_local_model_puts_paraphrases_closer_than_unrelated_text():
    embedder = LocalEmbedder()
    a, b, c = embedder.embed(
        ["Where is my parcel?", "Track my package delivery", "How do I change my password?"]
    )
    assert float(a @ b) > float(a @ c) + 0.2


@pytest.fixture
def openai_provider(server):
    get_embedder.cache_clear()
    with override_settings(
        EMBEDDING_PROVIDER="openai", EMBEDDING_BASE_URL=server, EMBEDDING_MODEL="m"
    ):
        yield
    get_embedder.cache_clear()


def test_cached_query_vectors_are_reused_read_only_and_bounded(openai_provider, monkeypatch):
    monkeypatch.setattr(embeddings, "QUERY_CACHE_SIZE", 2)
    first = embed_query_cached("where is my order")
    assert len(_Handler.requests) == 1
    assert np.allclose(first, embed_query("where is my order"))
    assert len(_Handler.requests) == 2  # the uncached call always asks the provider
    assert embed_query_cached("where is my order") is first
    assert len(_Handler.requests) == 2
    with pytest.raises(ValueError):
        first[0] = 0.0  # callers cannot spoil the cached vector
    embed_query_cached("second question")
    embed_query_cached("third question")  # the oldest of the two kept is dropped
    assert len(_Handler.requests) == 4
    embed_query_cached("second question")
    assert len(_Handler.requests) == 4
    embed_query_cached("where is my order")
    assert len(_Handler.requests) == 5


def test_a_new_provider_starts_with_an_empty_cache(openai_provider):
    embed_query_cached("refund status")
    get_embedder.cache_clear()  # settings changed: a new embedder
    embed_query_cached("refund status")
    assert len(_Handler.requests) == 2


def test_a_cached_batch_asks_only_for_the_texts_it_has_not_seen(openai_provider):
    embed_query_cached("where is my order")
    vectors = embed_texts_cached(["where is my order", "new one", "other", "new one"])
    assert [r["body"]["input"] for r in _Handler.requests] == [
        ["where is my order"],
        ["new one", "other"],  # once each, in one call
    ]
    assert vectors.shape == (4, 384)
    assert np.allclose(vectors, embed_texts(["where is my order", "new one", "other", "new one"]))
    assert embed_texts_cached([]).shape == (0, 384)


def test_a_training_set_is_embedded_once_and_then_read_from_disk(settings, tmp_path):
    from supportops.integrations.embeddings import embed_corpus, embed_texts

    settings.VAR_DIR = tmp_path
    texts = ["Where is my parcel?", "I want my money back", "Love the new tent!"]
    first = embed_corpus(texts)
    stored = list((tmp_path / "cache" / "embeddings").glob("*.npy"))
    assert len(stored) == 1
    np.testing.assert_allclose(first, embed_texts(texts), atol=1e-5)
    # Another process would read the same file: overwrite it to prove the second call reads it.
    np.save(stored[0], np.zeros_like(first), allow_pickle=False)
    assert not embed_corpus(texts).any()
    embed_corpus([*texts, "one more"])  # a different set is a different file
    assert len(list((tmp_path / "cache" / "embeddings").glob("*.npy"))) == 2
