"""Choosing the seed sentences' weight by grouped cross-validation on training data only."""

from __future__ import annotations

import numpy as np

from relaydesk.triage.model_selection import choose_seed_weight


def _blobs(rng: np.random.Generator, centres: np.ndarray, labels: list[str], n: int, noise: float):
    x = np.vstack([centres[i] + noise * rng.normal(size=(n, centres.shape[1])) for i in range(len(labels))])
    y = np.asarray([lab for lab in labels for _ in range(n)])
    return x.astype(np.float32), y


def test_seed_weight_is_chosen_where_the_seeds_help_and_reported_per_weight() -> None:
    rng = np.random.default_rng(0)
    labels = ["negative", "neutral", "positive"]
    # the "trained" language lives on axes 0-2, the seed language on axes 3-5: only seeds teach it
    train_c = np.eye(6)[:3] * 3
    seed_c = np.eye(6)[3:] * 3
    x, y = _blobs(rng, train_c, labels, 60, 0.5)
    xh, yh = _blobs(rng, train_c, labels, 20, 0.5)
    xs, ys = _blobs(rng, seed_c + train_c[[1, 2, 0]] * 0.9, labels, 10, 0.4)
    groups = list(range(10)) * 3
    w, table = choose_seed_weight(
        x, y, xh, yh, np.asarray(["th"] * len(yh)), xs, ys, np.asarray(["en"] * len(ys)), groups, folds=5
    )
    assert set(table) == {"0.0", "5.0", "10.0", "20.0"}
    assert {"holdout_th", "seedcv_en", "score"} <= set(table["5.0"])
    # without seeds the seed language is mislabelled (its vectors sit near the wrong classes)
    assert table["0.0"]["seedcv_en"] < 0.5
    assert w > 0 and table[str(w)]["seedcv_en"] > 0.9
