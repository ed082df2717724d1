"""Data-dependent checks: licence gates, no train/eval overlap, deterministic subsets, a tiny eval.

Skipped when the development data is absent (set RELAYDESK_DEV_DATA or put it at ../shared/data/).
"""

from __future__ import annotations

import pytest

from relaydesk.triage import datasets as ds

DATA = ds.default_data_path()
pytestmark = pytest.mark.skipif(
    DATA is None,
    reason="development data absent: set RELAYDESK_DEV_DATA or place ../shared/data/dev.jsonl.gz",
)


@pytest.fixture(scope="module")
def rows() -> list[ds.Row]:
    assert DATA is not None
    return ds.load_rows(DATA)


def test_training_rows_are_trainable_licences_only(rows: list[ds.Row]) -> None:
    items = ds.sentiment_training_rows(rows, 13, 500, ds.all_eval_texts(rows))
    datasets = {it.dataset for it in items}
    assert datasets == {"th_wisesight_sentiment", "ar_arsarcasm_v2", "he_hebrew_sentiment"}
    by_name = {r["dataset"]: r for r in rows}
    for name in datasets:
        assert ds.trainable(by_name[name])
    # measuring-only sets: non-commercial, unclear, GPL and share-alike
    for name in (
        "fa_armanemo",
        "en_twitter_us_airline_sentiment",
        "en_tweeteval_sentiment",
        "ar_astd",
        "ar_arbanking77",
    ):
        assert not ds.trainable(by_name[name]), name
    assert all(it.lang != "fa" and it.lang != "en" for it in items)


def test_no_evaluated_text_is_trained_on(rows: list[ds.Row]) -> None:
    train = {
        ds.dedup_key(it.text) for it in ds.sentiment_training_rows(rows, 13, None, ds.all_eval_texts(rows))
    }
    for name, items in ds.sentiment_eval_sets(rows, None, 13).items():
        # keys of a few characters ("10.", "ok") are not texts anyone could learn from
        overlap = [
            it.text for it in items if len(ds.dedup_key(it.text)) > 5 and ds.dedup_key(it.text) in train
        ]
        assert not overlap, (name, overlap[:3])


def test_subsets_are_seeded_and_stable(rows: list[ds.Row]) -> None:
    a = ds.sentiment_eval_sets(rows, 50, 13)
    b = ds.sentiment_eval_sets(rows, 50, 13)
    c = ds.sentiment_eval_sets(rows, 50, 14)
    assert a == b and a != c
    assert set(a) >= {"th", "he", "ar", "en", "fa"}


def test_fewshot_tasks_keep_shots_and_queries_apart(rows: list[ds.Row]) -> None:
    banking, arabic = ds.banking_tasks(rows, 10, 200, 13)
    assert len(banking.shots) == 770
    assert not {s.text for s in banking.shots} & {q.text for q in banking.queries}
    assert {q.label for q in arabic.queries} <= {s.label for s in banking.shots}
    assert all(q.lang == "ar" for q in arabic.queries)
    clinc = ds.clinc_task(rows, 10, 100, 13)
    assert clinc is not None and any(q.label == "oos" for q in clinc.queries)
    assert all(s.label != "oos" for s in clinc.shots)
    calib = ds.clinc_calibration(rows, 10, 100, 13)
    assert calib is not None and not {q.text for q in calib.queries} & {q.text for q in clinc.queries}


def test_complaint_set_labels_service_failures(rows: list[ds.Row]) -> None:
    items = ds.complaint_eval_set(rows, 300, 13)
    labels = {it.label for it in items}
    assert labels == {"complaint", "not_complaint"}


def test_tiny_eval_runs_end_to_end(rows: list[ds.Row]) -> None:
    from relaydesk.triage.evaluate import EvalOptions, run_eval

    opts = EvalOptions(
        sentiment_per_set=8,
        langid_per_lang=10,
        cache=False,
        sections=("langid", "sentiment"),
        baselines=False,
    )
    report = run_eval(DATA, opts)
    d = report.as_dict()
    assert d["langid"]["n"] == 50 and 0.8 <= d["langid"]["acc"] <= 1.0
    assert {"th", "he", "ar", "en", "fa"} <= set(d["sentiment"])
    assert all(0.0 <= r["macro_f1"] <= 1.0 and r["n"] == 8 for r in d["sentiment"].values())
    assert len(report.render()) >= 2
