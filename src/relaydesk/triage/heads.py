"""Small linear heads on top of sentence embeddings, stored as plain numpy (no pickle).

A head is `softmax(x @ W.T + b)`; the weights live in an `.npz` and the metadata (classes,
training data, metrics) in a `.json` beside it, both committed under `triage/weights/`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS_DIR = Path(__file__).with_name("weights")
SENTIMENT_CLASSES = ("negative", "neutral", "positive")
# the n-gram head's form: the classic character n-gram classifier (`baselines.fit_ngram` is the
# same, so the product's head is never the weaker of the two)
NGRAM_RANGE = (1, 4)
MIN_DF = 2
MAX_FEATURES = 300_000
NGRAM_C = 4.0


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


@dataclass
class LinearHead:
    """Multinomial logistic regression exported from scikit-learn (or refitted here)."""

    classes: tuple[str, ...]
    weight: np.ndarray  # (n_classes, dim)
    bias: np.ndarray  # (n_classes,)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.weight.shape[1])

    def logits(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.shape[1] != self.dim:
            raise ValueError(f"head expects {self.dim}-dim vectors, got {x.shape[1]}")
        out: np.ndarray = x @ self.weight.T + self.bias
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.logits(x))

    def predict(self, x: np.ndarray) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(x).argmax(axis=1)]

    def save(self, stem: str | Path) -> tuple[Path, Path]:
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        npz, js = stem.with_suffix(".npz"), stem.with_suffix(".json")
        np.savez_compressed(npz, weight=self.weight.astype(np.float32), bias=self.bias.astype(np.float32))
        js.write_text(
            json.dumps(
                {"classes": list(self.classes), **self.meta}, indent=2, ensure_ascii=False, sort_keys=True
            )
            + "\n",
            encoding="utf-8",
        )
        return npz, js

    @classmethod
    def load(cls, stem: str | Path) -> LinearHead:
        stem = Path(stem)
        meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(stem.with_suffix(".npz"), allow_pickle=False) as data:
            weight = np.asarray(data["weight"], dtype=np.float32)
            bias = np.asarray(data["bias"], dtype=np.float32)
        classes = tuple(meta.pop("classes"))
        if weight.shape != (len(classes), weight.shape[1]) or bias.shape != (len(classes),):
            raise ValueError(f"{stem}: weight/bias shapes do not match {len(classes)} classes")
        return cls(classes, weight, bias, meta)


def class_weights(model: Any, classes: Sequence[str], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """A fitted sklearn LogisticRegression as one weight row and bias per class of `classes`."""
    weight = np.zeros((len(classes), dim), dtype=np.float32)
    # a class absent from the data can never win: a very low bias instead of a missing row
    bias = np.full(len(classes), -30.0, dtype=np.float32)
    coef, intercept = model.coef_, model.intercept_
    fitted = [str(cl) for cl in model.classes_]
    if len(fitted) == 2:  # sklearn stores one row for binary problems
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    for row, cl in enumerate(fitted):
        i = list(classes).index(cl)
        weight[i] = coef[row]
        bias[i] = intercept[row]
    return weight, bias


def fit_linear_head(
    x: np.ndarray,
    y: Sequence[str],
    classes: Sequence[str],
    *,
    c: float = 1.0,
    seed: int = 13,
    sample_weight: np.ndarray | None = None,
    class_weight: str | None = "balanced",
    meta: dict[str, Any] | None = None,
) -> LinearHead:
    """Fit a multinomial logistic regression and export it; deterministic for a given seed."""
    from sklearn.linear_model import LogisticRegression

    present = [cl for cl in classes if cl in set(y)]
    if len(present) < 2:
        raise ValueError("need at least two classes with examples to fit a head")
    model = LogisticRegression(C=c, max_iter=2000, random_state=seed, class_weight=class_weight)
    model.fit(np.asarray(x, dtype=np.float32), list(y), sample_weight=sample_weight)
    weight, bias = class_weights(model, classes, int(np.asarray(x).shape[1]))
    return LinearHead(tuple(classes), weight, bias, dict(meta or {}))


def load_sentiment_head(weights_dir: str | Path = WEIGHTS_DIR) -> LinearHead:
    return LinearHead.load(Path(weights_dir) / "sentiment")


@dataclass
class NgramHead:
    """Character n-gram logistic regression (tf-idf over a learned vocabulary), stored as numpy.

    Trained on the same rows as the e5 head, it is stronger in-language (Thai, Hebrew: it sees
    spelling and slang e5-small blurs) and useless across languages, so the triager mixes it in
    only for the languages where it helped on the training holdout (`meta["mix_languages"]`).
    The vocabulary is the n-grams seen in at least `MIN_DF` training rows, the most frequent
    `MAX_FEATURES` of them: a hashed space of the same size lost ~0.015 Thai macro-F1 to collisions
    and to the one-off n-grams it cannot drop. It is kept as a plain string array, so no fitted
    scikit-learn object is pickled.
    """

    classes: tuple[str, ...]
    weight: np.ndarray  # (n_classes, n_features)
    bias: np.ndarray
    idf: np.ndarray  # (n_features,)
    vocabulary: tuple[str, ...]
    ngram_range: tuple[int, int] = NGRAM_RANGE
    meta: dict[str, Any] = field(default_factory=dict)
    _counter: Any = field(default=None, repr=False, compare=False)

    @property
    def n_features(self) -> int:
        return int(self.idf.shape[0])

    def _vectorizer(self) -> Any:
        if self._counter is None:
            from sklearn.feature_extraction.text import CountVectorizer

            self._counter = CountVectorizer(
                analyzer="char_wb",
                ngram_range=self.ngram_range,
                vocabulary={gram: i for i, gram in enumerate(self.vocabulary)},
                dtype=np.float32,
            )
        return self._counter

    def features(self, texts: Sequence[str]) -> Any:
        return _tfidf(self._vectorizer().transform(list(texts)), self.idf)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        z = np.asarray(self.features(texts) @ self.weight.T.astype(np.float32)) + self.bias
        return softmax(z)

    def save(self, stem: str | Path) -> tuple[Path, Path]:
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        npz, js = stem.with_suffix(".npz"), stem.with_suffix(".json")
        np.savez_compressed(
            npz,
            weight=self.weight.astype(np.float16),
            bias=self.bias.astype(np.float32),
            idf=self.idf.astype(np.float16),
            vocabulary=np.asarray(self.vocabulary, dtype=str),
        )
        body = {"classes": list(self.classes), "ngram_range": list(self.ngram_range), **self.meta}
        js.write_text(json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        return npz, js

    @classmethod
    def load(cls, stem: str | Path) -> NgramHead:
        stem = Path(stem)
        meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(stem.with_suffix(".npz"), allow_pickle=False) as data:
            weight = np.asarray(data["weight"], dtype=np.float32)
            bias = np.asarray(data["bias"], dtype=np.float32)
            idf = np.asarray(data["idf"], dtype=np.float32)
            vocabulary = tuple(str(g) for g in data["vocabulary"].tolist())
        classes = tuple(meta.pop("classes"))
        lo, hi = meta.pop("ngram_range")
        if weight.shape != (len(classes), len(vocabulary)) or idf.shape != (len(vocabulary),):
            raise ValueError(
                f"{stem}: weights do not match {len(classes)} classes x {len(vocabulary)} n-grams"
            )
        return cls(classes, weight, bias, idf, vocabulary, (int(lo), int(hi)), meta)


def _tfidf(counts: Any, idf: np.ndarray) -> Any:
    """Sublinear tf times idf, each row scaled to unit length (TfidfVectorizer's defaults)."""
    from scipy.sparse import diags

    x = counts.astype(np.float32).tocsr()
    x.data = 1.0 + np.log(x.data)
    x = x.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return diags(1.0 / norms) @ x


def fit_ngram_head(
    texts: Sequence[str],
    y: Sequence[str],
    classes: Sequence[str],
    *,
    max_features: int = MAX_FEATURES,
    min_df: int = MIN_DF,
    c: float = NGRAM_C,
    seed: int = 13,
    meta: dict[str, Any] | None = None,
) -> NgramHead:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    counter = CountVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAM_RANGE,
        min_df=min_df,
        max_features=max_features,
        dtype=np.float32,
    )
    counts = counter.fit_transform(list(texts))
    # the vocabulary in column order, so a column index is a position in the stored array
    vocabulary = tuple(sorted(counter.vocabulary_, key=counter.vocabulary_.__getitem__))
    df = np.bincount(counts.tocsc().indices, minlength=len(vocabulary))
    idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1.0).astype(np.float16).astype(np.float32)
    x = _tfidf(counts, idf)  # with the float16 idf load() will see
    model = LogisticRegression(C=c, max_iter=1000, class_weight="balanced", random_state=seed)
    model.fit(x, list(y))
    weight, bias = class_weights(model, classes, len(vocabulary))
    return NgramHead(tuple(classes), weight, bias, idf, vocabulary, NGRAM_RANGE, dict(meta or {}))


def load_ngram_head(weights_dir: str | Path = WEIGHTS_DIR) -> NgramHead | None:
    stem = Path(weights_dir) / "sentiment_ngram"
    return NgramHead.load(stem) if stem.with_suffix(".npz").is_file() else None
