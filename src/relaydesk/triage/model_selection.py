"""Choices made on training data while the sentiment heads are fitted: the seed sentences' weight,
the languages the n-gram head is mixed into, the stacked combiner and the cascade's thresholds.

Each one is made on the training rows, their seeded holdout and the seed sentences, never on an
evaluation set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from relaydesk.triage import datasets as ds
from relaydesk.triage.cascade import choose_threshold
from relaydesk.triage.combiner import StackedCombiner, choose_and_fit, cue_features, stack_features
from relaydesk.triage.embed import prepare_text
from relaydesk.triage.heads import SENTIMENT_CLASSES, LinearHead, NgramHead, fit_linear_head, fit_ngram_head
from relaydesk.triage.seeds import seed_groups

DEFAULT_C = 1.0
NGRAM_MIX = 0.5  # weight of the n-gram head where it is mixed in
# candidate weights of one hand-written seed sentence relative to one dataset row; the choice is
# made by `choose_seed_weight` on training rows and the seeds themselves, never on an eval set
SEED_WEIGHT_GRID = (0.0, 5.0, 10.0, 20.0)
SEED_FOLDS = 5


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))
    return float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))


def choose_seed_weight(
    x: np.ndarray,
    y: np.ndarray,
    x_hold: np.ndarray,
    y_hold: np.ndarray,
    lang_hold: np.ndarray,
    x_seed: np.ndarray,
    y_seed: np.ndarray,
    lang_seed: np.ndarray,
    groups: Sequence[int],
    *,
    grid: Sequence[float] = SEED_WEIGHT_GRID,
    folds: int = SEED_FOLDS,
    c: float = DEFAULT_C,
    seed: int = 13,
) -> tuple[float, dict[str, dict[str, float]]]:
    """Weight of the seed sentences, by grouped k-fold over the seeds plus the training holdout.

    For each weight: fit on the training rows + (k-1)/k of the seeds, score the held-out seed
    fold (the only held-out en/fa text there is) and the training holdout (th/he/ar must not
    suffer). Score = mean seed-fold macro-F1 over seed languages + mean holdout macro-F1 over
    trained languages; the smallest weight within 0.001 of the best wins.
    """
    grp = np.asarray(groups)
    n_groups = int(grp.max()) + 1 if len(grp) else 0
    fold_of_group = np.random.default_rng(seed).permutation(max(n_groups, 1)) % folds
    fold = fold_of_group[grp] if len(grp) else grp
    table: dict[str, dict[str, float]] = {}
    for w in grid:
        hold_f1: dict[str, list[float]] = {}
        seed_pred = np.empty(len(y_seed), dtype=object)
        for f in range(folds):
            tr = fold != f
            xx, yy = x, list(y)
            sw = np.ones(len(y))
            if w > 0:
                xx = np.vstack([x, x_seed[tr]])
                yy = yy + list(y_seed[tr])
                sw = np.concatenate([sw, np.full(int(tr.sum()), float(w))])
            head = fit_linear_head(xx, yy, SENTIMENT_CLASSES, c=c, seed=seed, sample_weight=sw)
            pred = np.asarray(head.predict(x_hold))
            for lang in sorted(set(lang_hold)):
                sel = lang_hold == lang
                hold_f1.setdefault(lang, []).append(macro_f1(y_hold[sel].tolist(), pred[sel].tolist()))
            if (~tr).any():
                seed_pred[~tr] = head.predict(x_seed[~tr])
        row = {f"holdout_{k}": round(float(np.mean(v)), 4) for k, v in hold_f1.items()}
        for lang in sorted(set(lang_seed)):
            sel = lang_seed == lang
            row[f"seedcv_{lang}"] = round(macro_f1(y_seed[sel].tolist(), seed_pred[sel].tolist()), 4)
        seed_part = [v for k, v in row.items() if k.startswith("seedcv_")]
        hold_part = [v for k, v in row.items() if k.startswith("holdout_")]
        row["score"] = round(float(np.mean(seed_part) + np.mean(hold_part)), 4)
        table[str(w)] = row
    best = max(r["score"] for r in table.values())
    chosen = min(float(w) for w, r in table.items() if r["score"] >= best - 0.001)
    return chosen, table


def fit_sentiment_combiner(
    items: Sequence[ds.LabelledText],
    is_hold: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    pe_hold: np.ndarray,
    pn_hold: np.ndarray,
    mix_languages: Sequence[str],
    seed_rows: Sequence[tuple[str, str, str]],
    x_seed: np.ndarray,
    seed_weight: float,
    ngram_head: NgramHead,
    *,
    c: float = DEFAULT_C,
    seed: int = 13,
) -> tuple[StackedCombiner, np.ndarray]:
    """The stacked combiner (`combiner.py`) on the training holdout, whose e5 / n-gram
    probabilities come from heads fitted on the other 90 %, plus the seed sentences with
    out-of-fold e5 probabilities (grouped folds, as in `choose_seed_weight`)."""
    hold_items = [it for it, h in zip(items, is_hold, strict=True) if h]
    hold_lang = np.asarray([it.lang for it in hold_items])
    mix = set(mix_languages)

    def ngram_rows(pn: np.ndarray, langs: Sequence[str] | np.ndarray) -> list[np.ndarray | None]:
        return [p if lang in mix else None for p, lang in zip(pn, langs, strict=True)]

    def fixed_rule(pe: np.ndarray, pn: np.ndarray, langs: Sequence[str] | np.ndarray) -> np.ndarray:
        out = pe.copy()
        for i, lang in enumerate(langs):
            if lang in mix:
                out[i] = (1 - NGRAM_MIX) * pe[i] + NGRAM_MIX * pn[i]
        return out

    hold_cues = np.vstack([cue_features(it.text, it.lang) for it in hold_items])
    hold_feats = stack_features(pe_hold, ngram_rows(pn_hold, hold_lang), hold_cues, hold_lang, False)
    seed_y = np.asarray([lab for _, lab, _ in seed_rows])
    seed_lang = np.asarray([lang for _, _, lang in seed_rows])
    groups = np.asarray(seed_groups(list(seed_rows)), dtype=int)
    pe_seed = np.zeros((len(seed_rows), len(SENTIMENT_CLASSES)))
    if len(seed_rows):
        n_groups = int(groups.max()) + 1
        fold = (np.random.default_rng(seed).permutation(n_groups) % SEED_FOLDS)[groups]
        for f in range(SEED_FOLDS):
            tr = fold != f
            xx, yy = x[~is_hold], y[~is_hold].tolist()
            sw = np.ones(len(yy))
            if seed_weight > 0:
                xx = np.vstack([xx, x_seed[tr]])
                yy = yy + seed_y[tr].tolist()
                sw = np.concatenate([sw, np.full(int(tr.sum()), seed_weight)])
            head = fit_linear_head(xx, yy, SENTIMENT_CLASSES, c=c, seed=seed, sample_weight=sw)
            pe_seed[~tr] = head.predict_proba(x_seed[~tr])
    seed_texts = [prepare_text(t) for t, _, _ in seed_rows]
    pn_seed = (
        ngram_head.predict_proba(seed_texts) if len(seed_rows) else np.zeros((0, len(SENTIMENT_CLASSES)))
    )
    seed_cues = (
        np.vstack([cue_features(t, lang) for t, _, lang in seed_rows])
        if len(seed_rows)
        else np.zeros((0, len(hold_cues[0])), dtype=np.float32)
    )
    seed_feats = stack_features(pe_seed, ngram_rows(pn_seed, seed_lang), seed_cues, seed_lang, False)
    combiner, _, oof_hold = choose_and_fit(
        hold_feats,
        y[is_hold],
        hold_lang,
        seed_feats,
        seed_y,
        seed_lang,
        groups,
        baseline_hold=fixed_rule(pe_hold, pn_hold, hold_lang),
        baseline_seed=fixed_rule(pe_seed, pn_seed, seed_lang),
        seed=seed,
    )
    return combiner, oof_hold


def choose_mix_languages(
    texts: Sequence[str],
    is_hold: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    langs: np.ndarray,
    probe: LinearHead,
    seed: int,
) -> tuple[NgramHead, np.ndarray, list[str], dict[str, dict[str, float]]]:
    """The n-gram head fitted on the training part, its holdout probabilities, and the languages
    where mixing it into e5 helps on the holdout (with each language's macro-F1, e5 and mixed)."""
    probe_ng = fit_ngram_head(
        [t for t, h in zip(texts, is_hold, strict=True) if not h],
        y[~is_hold].tolist(),
        SENTIMENT_CLASSES,
        seed=seed,
    )
    held_texts = [t for t, h in zip(texts, is_hold, strict=True) if h]
    pe = probe.predict_proba(x[is_hold])
    pn = probe_ng.predict_proba(held_texts)
    mixed = (1 - NGRAM_MIX) * pe + NGRAM_MIX * pn
    mix_languages: list[str] = []
    ngram_hold: dict[str, dict[str, float]] = {}
    for lang in sorted(set(langs[is_hold])):
        sel = langs[is_hold] == lang
        gold = y[is_hold][sel].tolist()
        e5_f1 = macro_f1(gold, [SENTIMENT_CLASSES[i] for i in pe[sel].argmax(1)])
        mix_f1 = macro_f1(gold, [SENTIMENT_CLASSES[i] for i in mixed[sel].argmax(1)])
        ngram_hold[lang] = {"e5": round(e5_f1, 4), "mixed": round(mix_f1, 4)}
        if mix_f1 >= e5_f1 + 0.01:
            mix_languages.append(lang)
    return probe_ng, pn, mix_languages, ngram_hold


def choose_cascade_thresholds(
    y_hold: np.ndarray,
    lang_hold: np.ndarray,
    pe_hold: np.ndarray,
    pn_hold: np.ndarray,
    full_hold: np.ndarray | None,
    mix_languages: Sequence[str],
) -> dict[str, dict[str, float | None]]:
    """The cascade's per-language confidence: the smallest one that keeps the holdout macro-F1
    within MAX_HOLDOUT_LOSS of what the full model (as it will ship: the combiner's out-of-fold
    probabilities `full_hold`, else the fixed mix) scores there."""
    cascade: dict[str, dict[str, float | None]] = {}
    for lang in sorted(set(lang_hold)):
        sel = lang_hold == lang
        if full_hold is not None:
            full = full_hold[sel]
        elif lang in mix_languages:
            full = (1 - NGRAM_MIX) * pe_hold[sel] + NGRAM_MIX * pn_hold[sel]
        else:
            full = pe_hold[sel]
        choice = choose_threshold(y_hold[sel].tolist(), pn_hold[sel], full, SENTIMENT_CLASSES, macro_f1)
        cascade[lang] = {
            "threshold": choice.threshold,
            "coverage": choice.coverage,
            "full_f1": choice.full_f1,
            "cascade_f1": choice.cascade_f1,
        }
    return cascade
