"""Learning from the team's corrections: a refit is kept only when it is better on held-back ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relaydesk.triage import learning, learning_service
from relaydesk.triage.base import TriageInput
from relaydesk.triage.learning_schedule import LearningSchedule, due

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)

# sarcasm and dry complaints an agent marks negative
SARCASM = [
    "great, the parcel came three weeks late",
    "wow thanks for losing my order again",
    "lovely, the app logged me out for the fifth time",
    "amazing service, nobody answered for two days",
    "fantastic, charged twice for one coffee",
    "brilliant, the courier left it in the rain",
    "so nice of you to cancel my booking without telling me",
    "perfect, another wrong size delivered",
    "thanks a lot for the cold pizza",
    "awesome, my refund vanished",
    "cool, the store was closed during opening hours",
    "well done, the voucher does not work",
    "superb, waited an hour on the phone",
    "excellent, the box arrived empty",
    "what a treat, the milk was sour",
    "love how you never reply",
    "good job sending it to the wrong city",
    "nice, the discount disappeared at checkout",
    "wonderful, the headphones broke on day one",
    "great support, they hung up on me",
    "thanks for nothing, still no tracking number",
    "yay, my account got locked again",
    "sweet, the table I booked was given away",
    "oh great, the app crashed at payment",
    "how lovely, the order shows delivered but nothing came",
]


def test_the_split_is_stable_and_holds_back_about_one_in_five() -> None:
    pairs = [(f"message number {i}", "negative") for i in range(500)]
    learn, held = learning.split(pairs)
    assert learning.split(pairs) == (learn, held)
    assert 60 <= len(held) <= 140 and len(learn) + len(held) == 500
    assert not set(learn) & set(held)


def test_judge_keeps_the_refit_only_when_it_is_at_least_as_right() -> None:
    gold = ["negative", "negative", "positive", "neutral"]
    better = learning.judge(10, gold, ["positive", "negative", "positive", "positive"], gold)
    assert (better.kept, better.score_in_use, better.score_refitted) == ("refitted", 0.5, 1.0)
    worse = learning.judge(10, gold, gold, ["positive"] * 4)
    assert (worse.kept, worse.reason) == ("in use", "the refit scored worse")
    assert learning.judge(10, gold, gold, gold).kept == "refitted"
    too_few = learning.judge(10, gold[:2], [], [])
    assert too_few.kept == "in use" and too_few.score_refitted is None


def test_due_after_the_period_when_corrections_grew() -> None:
    day = timedelta(hours=24)
    assert due([], 3, day, NOW) and not due([], 0, day, NOW)
    last = [{"at": (NOW - timedelta(hours=25)).isoformat(), "corrections": 3}]
    assert due(last, 4, day, NOW) and not due(last, 3, day, NOW)
    assert not due([{"at": (NOW - timedelta(hours=2)).isoformat(), "corrections": 3}], 9, day, NOW)
    assert not due([], 5, timedelta(0), NOW)  # the schedule is off


@pytest.fixture(scope="module")
def triager():  # type: ignore[no-untyped-def]
    from relaydesk.triage.model_triager import ModelTriager

    return ModelTriager.load()


def _examples() -> list[tuple[str, str, str]]:
    return [(text, "sentiment", "negative") for text in SARCASM]


def test_learning_keeps_a_better_refit_logs_both_scores_and_the_triager_takes_it_up(
    triager, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    shipped = triager.sentiment_head
    held = [t for t in SARCASM if learning.held_back(t)]
    assert len(held) >= learning.MIN_HELD_BACK
    schedule = LearningSchedule(triager, tmp_path, timedelta(hours=24), _examples)
    try:
        assert schedule.round(NOW) == "learned"
        runs = learning_service.history(tmp_path)
        assert len(runs) == 1 and runs[0]["kept"] == "refitted"
        assert runs[0]["score_refitted"] >= runs[0]["score_in_use"]
        assert runs[0]["held_back"] == len(held) and runs[0]["corrections"] == len(SARCASM)
        assert (tmp_path / "sentiment.npz").is_file()
        assert triager.sentiment_head is not shipped  # taken up without a restart
        # a sarcastic message the refit never saw now reads as the team reads it
        assert [r.sentiment for r in triager.triage([TriageInput(text=t) for t in held])].count(
            "negative"
        ) >= (len(held) + 1) // 2
        # nothing new, period not over: the next round does nothing
        assert schedule.round(NOW + timedelta(minutes=5)) == ""
        # a restart finds the learned head in the data folder
        from relaydesk.triage.service import use_learned_head

        fresh_head = learning_service.learned_head(tmp_path)
        assert fresh_head is not None and use_learned_head(triager, tmp_path)
    finally:
        triager.use_sentiment_head(shipped)


def test_too_few_corrections_leave_the_head_in_use(tmp_path: Path, triager) -> None:  # type: ignore[no-untyped-def]
    outcome = learning_service.learn(_examples()[:4], triager.embedder, tmp_path, now=NOW)
    assert outcome.kept == "in use" and not (tmp_path / "sentiment.npz").exists()
    line = json.loads((tmp_path / "learning.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert line["kept"] == "in use" and line["at"].startswith("2026-12-08T03:00")
