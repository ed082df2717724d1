"""The two simple baselines of `relaydesk eval --baselines`: they learn what they are given and are
measured the way the product is (toy rows; the real numbers come from the development data)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np

from relaydesk.triage import baselines


class WordHashEmbedder:
    """A stand-in for e5: each word a fixed random direction, a text the normalised sum."""

    name = "word-hash"
    dim = 64

    def _vector(self, text: str) -> np.ndarray:
        total = np.zeros(self.dim)
        for word in text.lower().split():
            seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
            total += np.random.default_rng(seed).normal(size=self.dim)
        return total / (np.linalg.norm(total) or 1.0)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self._vector(t) for t in texts])

    embed_passages = embed_queries


GOOD = ["great service thanks", "love it great", "thanks so much great", "wonderful thanks love"]
BAD = ["terrible service awful", "awful broken terrible", "worst awful refund", "broken terrible worst"]


def test_both_baselines_learn_a_separable_set() -> None:
    texts, labels = GOOD + BAD, ["positive"] * 4 + ["negative"] * 4
    for fitted in (baselines.fit_ngram(texts, labels), baselines.fit_e5(WordHashEmbedder(), texts, labels)):  # type: ignore[arg-type]
        predicted, proba = fitted(["great thanks", "awful terrible"])
        assert predicted == ["positive", "negative"] and proba.shape == (2, 2)


def test_the_comparison_says_where_the_product_loses() -> None:
    report = SimpleNamespace(
        sentiment={"he": {"macro_f1": 0.84}, "th": {"macro_f1": 0.60}},
        fewshot={"clinc150": {"top1_acc": 0.9, "in_scope_acc": 0.85, "oos_recall": 0.70}},
        baselines={
            "sentiment": {
                "he": {"char_ngram_lr": 0.80, "e5_lr": 0.843},
                "th": {"char_ngram_lr": 0.70, "e5_lr": 0.55},
            },
            "fewshot": {
                "clinc150": {
                    "char_ngram_lr": {
                        "top1_acc": 0.8,
                        "in_scope_acc": 0.7,
                        "oos_recall": 0.95,
                        "oos_recall_at_product": 0.9,
                    },
                    "e5_lr": {
                        "top1_acc": 0.85,
                        "in_scope_acc": 0.8,
                        "oos_recall": 0.5,
                        "oos_recall_at_product": None,
                    },
                }
            },
        },
    )
    lines = {(s, m): (p, n, e) for s, m, p, n, e in baselines.comparison(report)}
    assert lines[("he", "macro-F1")] == (0.84, 0.80, 0.843)
    # recall is compared where the baseline keeps the product's in-scope accuracy (None: no cut does)
    assert lines[("clinc150", "oos_recall at the product's in-scope acc")] == (0.70, 0.9, None)
    rendered = baselines.table(report)
    verdicts = list(rendered.columns[-1]._cells)
    assert verdicts == ["yes", "NO", "yes", "yes", "NO"]  # he ties within 0.005; th and oos lose


def test_recall_at_the_products_operating_point() -> None:
    gold = ["a", "a", "b", "b", "oos", "oos"]
    pred = ["a", "a", "b", "a", "a", "b"]
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.55, 0.45], [0.4, 0.6]])
    # keeping 3 of 4 in scope right allows cutting below 0.7: both oos (0.55, 0.6) fall out
    assert baselines.recall_at(proba, pred, gold, 0.75) == 1.0
    # keeping all 4 right is impossible (one is wrong at any cut)
    assert baselines.recall_at(proba, pred, gold, 1.0) is None
