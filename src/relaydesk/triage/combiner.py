"""Stacked sentiment combiner: one small logistic regression over the heads and the lexicon cues.

The e5 head and the char n-gram head give class probabilities; the lexicon triager's hand-written
polarity cues (positive/negative words after negation and intensifiers, emoji, `!`/`?`) are
evidence neither head sees as such. Instead of a fixed 50/50 mix, a multinomial logistic
regression on ~20 features — the heads' log-probabilities, the cue counts, and optionally a
language indicator — gives the final probabilities.

It is fitted by `train` on the *held-out* slice of the training rows (the heads were fitted on
the other 90 %, so their probabilities there look like those on unseen messages) plus the
hand-written seed sentences with out-of-fold e5 probabilities; its options are chosen by
cross-validation inside that slice. The weights are a few hundred numbers stored as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relaydesk.triage.heads import SENTIMENT_CLASSES, WEIGHTS_DIR, class_weights, softmax

FILE = "sentiment_combiner.json"
LANGS = ("th", "he", "ar", "en", "fa")
PROB_FLOOR = 1e-4
CUE_FEATURES = (
    "cue_pos",
    "cue_neg",
    "emoji_pos",
    "emoji_neg",
    "negated",
    "intensified",
    "any_cue",
    "exclaim",
    "question",
)


def feature_names(lang_features: bool) -> list[str]:
    names = [f"e5_log_{c}" for c in SENTIMENT_CLASSES]
    names += [f"ngram_log_{c}" for c in SENTIMENT_CLASSES] + ["has_ngram"]
    names += list(CUE_FEATURES)
    if lang_features:
        names += [f"lang_{lang}" for lang in LANGS]
    return names


def cue_features(text: str, lang: str) -> np.ndarray:
    """The lexicon's sentiment evidence for one message, squashed to small numbers."""
    from relaydesk.triage.lexicon import sentiment_evidence

    ev = sentiment_evidence(text, lang)
    exclaim = text.count("!") + text.count("！")
    return np.array(
        [
            np.log1p(ev.positive),
            np.log1p(ev.negative),
            np.log1p(ev.emoji_positive),
            np.log1p(ev.emoji_negative),
            float(ev.negated > 0),
            float(ev.intensified > 0),
            float(ev.positive + ev.negative > 0),
            np.log1p(min(exclaim, 10)),
            float("?" in text or "؟" in text),
        ],
        dtype=np.float32,
    )


def stack_features(
    e5_proba: np.ndarray,
    ngram_proba: Sequence[np.ndarray | None],
    cues: np.ndarray,
    langs: Sequence[str] | np.ndarray,
    lang_features: bool,
) -> np.ndarray:
    """Rows of features: e5 log-probabilities, n-gram log-probabilities (zeros where the
    language has no n-gram head), cue features, optional language one-hot."""
    n = len(langs)
    e5_arr = np.asarray(e5_proba, dtype=np.float32)
    if e5_arr.shape != (n, len(SENTIMENT_CLASSES)) or len(ngram_proba) != n or len(cues) != n:
        raise ValueError(
            f"{n} languages but e5 {e5_arr.shape}, {len(ngram_proba)} n-gram rows, {len(cues)} cue rows"
        )
    e5 = np.log(np.clip(e5_arr, PROB_FLOOR, 1.0))
    ng = np.zeros((n, len(SENTIMENT_CLASSES) + 1), dtype=np.float32)
    for i, p in enumerate(ngram_proba):
        if p is not None:
            ng[i, :-1] = np.log(np.clip(p, PROB_FLOOR, 1.0))
            ng[i, -1] = 1.0
    parts = [e5, ng, np.asarray(cues, dtype=np.float32).reshape(n, len(CUE_FEATURES))]
    if lang_features:
        one_hot = np.zeros((n, len(LANGS)), dtype=np.float32)
        for i, lang in enumerate(langs):
            if lang in LANGS:
                one_hot[i, LANGS.index(lang)] = 1.0
        parts.append(one_hot)
    return np.hstack(parts).astype(np.float32)


@dataclass
class StackedCombiner:
    classes: tuple[str, ...]
    weight: np.ndarray  # (n_classes, n_features)
    bias: np.ndarray  # (n_classes,)
    features: tuple[str, ...]
    lang_features: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, feats: np.ndarray) -> np.ndarray:
        x = np.asarray(feats, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.shape[1] != len(self.features):
            raise ValueError(f"combiner expects {len(self.features)} features, got {x.shape[1]}")
        return softmax(x @ self.weight.T + self.bias)

    def combine(
        self,
        e5_proba: np.ndarray,
        ngram_proba: Sequence[np.ndarray | None],
        texts: Sequence[str],
        langs: Sequence[str],
    ) -> np.ndarray:
        cues = np.vstack([cue_features(t, lang) for t, lang in zip(texts, langs, strict=True)])
        feats = stack_features(e5_proba, ngram_proba, cues, langs, self.lang_features)
        return self.predict_proba(feats)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        body = {
            "classes": list(self.classes),
            "features": list(self.features),
            "lang_features": self.lang_features,
            "weight": [[round(float(v), 6) for v in row] for row in self.weight],
            "bias": [round(float(v), 6) for v in self.bias],
            **self.meta,
        }
        path.write_text(
            json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> StackedCombiner:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
        classes = tuple(body.pop("classes"))
        feats = tuple(body.pop("features"))
        lang_features = bool(body.pop("lang_features"))
        weight = np.asarray(body.pop("weight"), dtype=np.float32)
        bias = np.asarray(body.pop("bias"), dtype=np.float32)
        if list(feats) != feature_names(lang_features):
            raise ValueError(
                f"{path}: features {feats} are not this version's {feature_names(lang_features)}"
            )
        if weight.shape != (len(classes), len(feats)) or bias.shape != (len(classes),):
            raise ValueError(f"{path}: weight/bias shapes do not match")
        return cls(classes, weight, bias, feats, lang_features, body)


def fit_combiner(
    feats: np.ndarray,
    y: Sequence[str],
    *,
    lang_features: bool,
    c: float = 1.0,
    sample_weight: np.ndarray | None = None,
    seed: int = 13,
    meta: dict[str, Any] | None = None,
) -> StackedCombiner:
    """Multinomial logistic regression, balanced classes; deterministic for a given seed."""
    from sklearn.linear_model import LogisticRegression

    names = feature_names(lang_features)
    if feats.shape[1] != len(names):
        raise ValueError(f"expected {len(names)} features, got {feats.shape[1]}")
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    model.fit(np.asarray(feats, dtype=np.float64), list(y), sample_weight=sample_weight)
    classes = SENTIMENT_CLASSES
    weight, bias = class_weights(model, classes, len(names))
    return StackedCombiner(classes, weight, bias, tuple(names), lang_features, dict(meta or {}))


def load_combiner(weights_dir: str | Path = WEIGHTS_DIR) -> StackedCombiner | None:
    path = Path(weights_dir) / FILE
    return StackedCombiner.load(path) if path.is_file() else None


C_GRID = (0.1, 0.3, 1.0, 3.0)
CV_FOLDS = 5


def _macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(list(gold), list(pred), labels=sorted(set(gold)), average="macro", zero_division=0))


def choose_and_fit(
    hold_feats: np.ndarray,
    hold_y: np.ndarray,
    hold_lang: np.ndarray,
    seed_feats: np.ndarray,
    seed_y: np.ndarray,
    seed_lang: np.ndarray,
    seed_groups: np.ndarray,
    *,
    baseline_hold: np.ndarray | None = None,
    baseline_seed: np.ndarray | None = None,
    lang_features: bool = False,
    grid: Sequence[float] = C_GRID,
    folds: int = CV_FOLDS,
    seed: int = 13,
) -> tuple[StackedCombiner, dict[str, dict[str, float]], np.ndarray]:
    """C by k-fold cross-validation over the training holdout rows and the seed sentences (grouped
    by parallel sentence). Score = mean holdout macro-F1 over the trained languages + mean
    held-out-seed macro-F1 over the seed languages (as `train.choose_seed_weight`); the smallest
    C within 0.001 of the best wins. `baseline_*`: the shipped rule's probabilities, reported
    beside the grid. Then one fit on everything. Returns the combiner, the CV table and the
    chosen C's out-of-fold probabilities on the holdout rows (what the cascade is tuned against)."""
    fold_h = np.random.default_rng(seed).permutation(len(hold_y)) % folds
    grp = np.asarray(seed_groups, dtype=int)
    n_groups = int(grp.max()) + 1 if len(grp) else 1
    fold_s = (np.random.default_rng(seed + 1).permutation(n_groups) % folds)[grp] if len(grp) else grp
    classes = SENTIMENT_CLASSES

    def scores(ph: np.ndarray, ps: np.ndarray) -> dict[str, float]:
        row: dict[str, float] = {}
        for lang in sorted(set(hold_lang.tolist())):
            sel = hold_lang == lang
            row[f"holdout_{lang}"] = round(_macro_f1(hold_y[sel], [classes[i] for i in ph[sel].argmax(1)]), 4)
        for lang in sorted(set(seed_lang.tolist())):
            sel = seed_lang == lang
            row[f"seedcv_{lang}"] = round(_macro_f1(seed_y[sel], [classes[i] for i in ps[sel].argmax(1)]), 4)
        hold = [v for k, v in row.items() if k.startswith("holdout_")]
        seeds = [v for k, v in row.items() if k.startswith("seedcv_")]
        row["score"] = round(float(np.mean(hold) + (np.mean(seeds) if seeds else 0.0)), 4)
        return row

    table: dict[str, dict[str, float]] = {}
    oof: dict[float, np.ndarray] = {}
    if baseline_hold is not None and baseline_seed is not None:
        table["fixed rule"] = scores(baseline_hold, baseline_seed)
    for c in grid:
        ph = np.zeros((len(hold_y), len(classes)))
        ps = np.zeros((len(seed_y), len(classes)))
        for f in range(folds):
            th, ts = fold_h != f, fold_s != f
            model = fit_combiner(
                np.vstack([hold_feats[th], seed_feats[ts]]),
                [*hold_y[th].tolist(), *seed_y[ts].tolist()],
                lang_features=lang_features,
                c=c,
                seed=seed,
            )
            ph[~th] = model.predict_proba(hold_feats[~th])
            if (~ts).any():
                ps[~ts] = model.predict_proba(seed_feats[~ts])
        table[str(c)] = scores(ph, ps)
        oof[c] = ph
    best = max(table[str(c)]["score"] for c in grid)
    chosen = min(c for c in grid if table[str(c)]["score"] >= best - 0.001)
    final = fit_combiner(
        np.vstack([hold_feats, seed_feats]),
        [*hold_y.tolist(), *seed_y.tolist()],
        lang_features=lang_features,
        c=chosen,
        seed=seed,
        meta={"c": chosen, "cv": table, "rows": {"holdout": len(hold_y), "seed_sentences": len(seed_y)}},
    )
    return final, table, oof[chosen]
