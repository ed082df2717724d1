"""The two simple baselines the product's triage must beat (`relaydesk eval --baselines`).

Both learn from exactly what the product's heads may learn from (the same permitted training rows
for sentiment, the same shots for intents) and are measured on exactly the same held-out sets:
- a character n-gram logistic regression (tf-idf of 1-4 character n-grams within words, the
  classic 90-second text classifier);
- an e5 logistic regression (the same multilingual-e5-small vectors the product embeds with).
Intent tasks: one regression on the shots; "out of scope" (CLINC) when the top probability is under
a threshold chosen on the train split's calibration queries (the product's rule is chosen there too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from relaydesk.triage import datasets as ds
from relaydesk.triage.embed import Embedder

NAMES = ("char_ngram_lr", "e5_lr")
MAX_TRAIN_PER_LANGUAGE = 12_000  # as train.py: the product's heads see at most this many a language


def _ngram_features() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 4), min_df=2, sublinear_tf=True, max_features=300_000
    )


def _regression() -> LogisticRegression:
    return LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced")


Fitted = Callable[[Sequence[str]], tuple[list[str], np.ndarray]]  # texts -> (predictions, probabilities)


def fit_ngram(texts: Sequence[str], labels: Sequence[str]) -> Fitted:
    vectorizer = _ngram_features()
    features = vectorizer.fit_transform(list(texts))
    model = _regression().fit(features, list(labels))

    def predict(queries: Sequence[str]) -> tuple[list[str], np.ndarray]:
        proba = model.predict_proba(vectorizer.transform(list(queries)))
        return [str(model.classes_[i]) for i in proba.argmax(axis=1)], proba

    return predict


def fit_e5(embedder: Embedder, texts: Sequence[str], labels: Sequence[str]) -> Fitted:
    model = _regression().fit(embedder.embed_queries(list(texts)), list(labels))

    def predict(queries: Sequence[str]) -> tuple[list[str], np.ndarray]:
        proba = model.predict_proba(embedder.embed_queries(list(queries)))
        return [str(model.classes_[i]) for i in proba.argmax(axis=1)], proba

    return predict


def _fitters(embedder: Embedder) -> dict[str, Callable[[Sequence[str], Sequence[str]], Fitted]]:
    return {"char_ngram_lr": fit_ngram, "e5_lr": lambda t, y: fit_e5(embedder, t, y)}


def sentiment(rows: list[ds.Row], embedder: Embedder, per_set: int, seed: int) -> dict[str, dict[str, float]]:
    """Macro-F1 of each baseline on each sentiment evaluation set (the classes in its gold labels)."""
    training = ds.sentiment_training_rows(rows, seed, MAX_TRAIN_PER_LANGUAGE, ds.all_eval_texts(rows))
    texts, labels = [t.text for t in training], [t.label for t in training]
    sets = ds.sentiment_eval_sets(rows, per_set, seed)
    out: dict[str, dict[str, float]] = {name: {} for name in sets}
    for baseline, fit in _fitters(embedder).items():
        predict = fit(texts, labels)
        for name, items in sets.items():
            gold = [it.label for it in items]
            pred, _ = predict([it.text for it in items])
            out[name][baseline] = round(
                float(f1_score(gold, pred, labels=sorted(set(gold)), average="macro")), 4
            )
    return out


def _oos_threshold(predict: Fitted, calibration: ds.FewShotTask) -> float:
    """The top-probability cut that best balances in-scope accuracy and out-of-scope recall on the
    train split's calibration queries."""
    texts = [q.text for q in calibration.queries]
    pred, proba = predict(texts)
    top = proba.max(axis=1)
    best, best_score = 0.0, -1.0
    for cut in np.quantile(top, np.linspace(0.0, 0.9, 37)):
        kept = top >= cut
        in_scope = [i for i, q in enumerate(calibration.queries) if q.label != "oos"]
        oos = [i for i, q in enumerate(calibration.queries) if q.label == "oos"]
        acc = (
            np.mean([kept[i] and pred[i] == calibration.queries[i].label for i in in_scope])
            if in_scope
            else 0.0
        )
        recall = np.mean([not kept[i] for i in oos]) if oos else 0.0
        if acc + recall > best_score:
            best, best_score = float(cut), float(acc + recall)
    return best


def recall_at(proba: np.ndarray, pred: list[str], gold: list[str], in_scope_acc: float) -> float | None:
    """The best out-of-scope recall of any cut that keeps at least this in-scope accuracy: the
    baseline at the product's operating point. The cut is chosen with the held-out labels, an
    advantage the product does not get, so a product that still leads does so at equal footing
    or better."""
    top = proba.max(axis=1)
    inside = np.array([g != "oos" for g in gold])
    right = np.array([p == g for p, g in zip(pred, gold, strict=True)]) & inside
    best: float | None = None  # None: no cut keeps that much in scope
    for cut in np.unique(top):
        kept = top >= cut
        if (kept & right).sum() / max(inside.sum(), 1) >= in_scope_acc - 1e-9:
            best = max(best or 0.0, float((~kept & ~inside).sum() / max((~inside).sum(), 1)))
    return None if best is None else round(best, 4)


def fewshot(
    rows: list[ds.Row],
    embedder: Embedder,
    shots: int,
    n_queries: int,
    n_in_scope: int,
    seed: int,
    product_in_scope: dict[str, float] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Top-1 accuracy of each baseline on each few-shot task; on CLINC also in-scope accuracy and
    out-of-scope recall with its calibrated cut, and its out-of-scope recall at the product's
    in-scope accuracy (`product_in_scope`, by task): recall alone says nothing without the
    in-scope accuracy it was bought with."""
    tasks = list(ds.banking_tasks(rows, shots, n_queries, seed))
    clinc = ds.clinc_task(rows, shots, n_in_scope, seed)
    calibration = ds.clinc_calibration(rows, shots, n_in_scope, seed)
    if clinc is not None:
        tasks.append(clinc)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for task in tasks:
        out[task.name] = {}
        shot_texts, shot_labels = [s.text for s in task.shots], [s.label for s in task.shots]
        for baseline, fit in _fitters(embedder).items():
            predict = fit(shot_texts, shot_labels)
            pred, proba = predict([q.text for q in task.queries])
            in_scope = [i for i, q in enumerate(task.queries) if q.label != "oos"]
            top1 = float(np.mean([pred[i] == task.queries[i].label for i in in_scope])) if in_scope else 0.0
            result: dict[str, Any] = {"top1_acc": round(top1, 4)}
            oos = [i for i, q in enumerate(task.queries) if q.label == "oos"]
            if oos and calibration is not None:
                cut = _oos_threshold(predict, calibration)
                kept = proba.max(axis=1) >= cut
                result["in_scope_acc"] = round(
                    float(np.mean([kept[i] and pred[i] == task.queries[i].label for i in in_scope])), 4
                )
                result["oos_recall"] = round(float(np.mean([not kept[i] for i in oos])), 4)
                if product_in_scope and task.name in product_in_scope:
                    gold = [q.label for q in task.queries]
                    result["oos_recall_at_product"] = recall_at(
                        proba, pred, gold, product_in_scope[task.name]
                    )
            out[task.name][baseline] = result
    return out


def comparison(report: Any) -> list[tuple[str, str, float | None, float | None, float | None]]:
    """(set, measure, product, char n-gram LR, e5 LR) for every set both were measured on."""
    lines: list[tuple[str, str, float | None, float | None, float | None]] = []
    for name, base in report.baselines.get("sentiment", {}).items():
        product = report.sentiment.get(name, {}).get("macro_f1")
        lines.append((name, "macro-F1", product, base.get("char_ngram_lr"), base.get("e5_lr")))
    for task, base in report.baselines.get("fewshot", {}).items():
        mine = report.fewshot.get(task, {})
        # out-of-scope recall is compared where both keep the same in-scope accuracy
        for measure, theirs in (
            ("top1_acc", "top1_acc"),
            ("in_scope_acc", "in_scope_acc"),
            ("oos_recall", "oos_recall_at_product"),
        ):
            if theirs in base.get("char_ngram_lr", {}):
                label = measure if measure == theirs else f"{measure} at the product's in-scope acc"
                lines.append(
                    (
                        task,
                        label,
                        mine.get(measure),
                        base["char_ngram_lr"].get(theirs),
                        base.get("e5_lr", {}).get(theirs),
                    )
                )
    return lines


def _own_cuts(report: Any) -> str:
    """Each baseline's in-scope accuracy and out-of-scope recall at its own calibrated cut."""
    said = []
    for task, base in report.baselines.get("fewshot", {}).items():
        for name, result in base.items():
            if "oos_recall" in result:
                said.append(
                    f"{task} {name} at its own cut: in scope {result['in_scope_acc']:.3f}, oos {result['oos_recall']:.3f}"
                )
    return "; ".join(said)


def table(report: Any) -> Any:
    """The product beside both baselines, with whether it wins or ties (within 0.005) each line."""
    from rich.table import Table

    out = Table(
        title="product vs the simple baselines (same training rows, same held-out sets)",
        caption=_own_cuts(report),
    )
    for column in ("set", "measure", "product", "char n-gram LR", "e5 LR", "product >= both"):
        out.add_column(column)
    for name, measure, product, ngram, e5 in comparison(report):
        best = max((v for v in (ngram, e5) if v is not None), default=None)
        verdict = "—" if product is None or best is None else ("yes" if product >= best - 0.005 else "NO")
        cells = [f"{v:.3f}" if v is not None else "—" for v in (product, ngram, e5)]
        out.add_row(name, measure, *cells, verdict)
    return out
