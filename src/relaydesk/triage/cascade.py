"""The cheap first stage of the triage cascade: answer without e5 when the n-gram head is sure.

One e5-small pass per message is ~96 % of the cost of triage. For languages with trained
sentiment rows, the char n-gram head alone agrees with the full model on most messages it is
confident about, so those messages take its sentiment plus the lexicon's intent/stage/urgency
cues, and only the rest are embedded. The per-language confidence threshold is chosen at
training time on a held-out slice of the training rows (`choose_threshold`): the smallest one
whose cascade macro-F1 stays within `max_loss` of the full model there. A language without a
threshold (no trained rows: en, fa) always goes to e5, and so does every message when the caller
passes organisation intents (only embeddings can match them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MODES = ("full", "cascade")
ENV_MODE = "RELAYDESK_TRIAGE_MODE"
DEFAULT_MODE = "cascade"
THRESHOLD_GRID = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
# what the cascade may lose on the held-out training slice; half the product's 0.01 budget, so
# sampling noise on unseen messages has room
MAX_HOLDOUT_LOSS = 0.005


def parse_mode(value: str | None) -> str:
    """`full` or `cascade`; empty means the default, anything else is an error (a typo must not
    silently switch the model)."""
    mode = (value or DEFAULT_MODE).strip().lower()
    if mode not in MODES:
        raise ValueError(f"unknown triage mode {value!r} (expected one of {', '.join(MODES)})")
    return mode


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float | None  # None: the cascade never answers for this language
    coverage: float  # share of held-out rows the cheap stage answers
    full_f1: float
    cascade_f1: float


def choose_threshold(
    gold: Sequence[str],
    cheap_proba: np.ndarray,
    full_proba: np.ndarray,
    classes: Sequence[str],
    f1: Callable[[Sequence[str], Sequence[str]], float],
    *,
    grid: Sequence[float] = THRESHOLD_GRID,
    max_loss: float = MAX_HOLDOUT_LOSS,
) -> ThresholdChoice:
    """Smallest threshold (most messages answered cheaply) whose cascade macro-F1 on the given
    held-out rows is at most `max_loss` below the full model's."""
    full_pred = [classes[i] for i in full_proba.argmax(axis=1)]
    full_f1 = f1(gold, full_pred)
    conf = cheap_proba.max(axis=1)
    for tau in sorted(grid):
        cheap = conf >= tau
        pred_idx = np.where(cheap, cheap_proba.argmax(axis=1), full_proba.argmax(axis=1))
        score = f1(gold, [classes[i] for i in pred_idx])
        if score >= full_f1 - max_loss:
            return ThresholdChoice(
                float(tau), round(float(cheap.mean()), 4), round(full_f1, 4), round(score, 4)
            )
    return ThresholdChoice(None, 0.0, round(full_f1, 4), round(full_f1, 4))


def cheap_rows(proba: np.ndarray, langs: Sequence[str], thresholds: Mapping[str, float | None]) -> np.ndarray:
    """Boolean mask: rows the cheap stage answers (its language has a threshold it reaches)."""
    mask = np.zeros(len(langs), dtype=bool)
    if len(langs) == 0:
        return mask
    conf = proba.max(axis=1)
    for i, lang in enumerate(langs):
        tau = thresholds.get(lang)
        mask[i] = tau is not None and bool(conf[i] >= tau)
    return mask
