"""When RelayDesk answers by itself (pure rules): off by default, never where a person must speak."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from relaydesk.guidelines.auto_answer_rules import (
    AutoAnswerSettings,
    Candidate,
    Situation,
    clean,
    decide,
    fill_opens,
)

NOW = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
CLOSED = Situation(
    language="fa",
    public=False,
    crisis=False,
    vip=False,
    spam=False,
    open_now=False,
    answered_before=False,
    first_message=True,
    last_away_at=None,
    now=NOW,
)
AWAY = AutoAnswerSettings(
    away=True, away_texts={"en": "Closed; back {opens}.", "fa": "بسته‌ایم؛ از {opens} پاسخ می‌دهیم."}
)
FAQ = AutoAnswerSettings(faq=True)
HOURS = Candidate("hours", "از ۹ تا ۵ باز هستیم.", "fa", 0.71)


def test_nothing_is_sent_unless_an_account_turns_it_on() -> None:
    assert clean(None) == (AutoAnswerSettings(), [])
    assert decide(AutoAnswerSettings(), CLOSED, [HOURS]) is None


@pytest.mark.parametrize("field", ["crisis", "vip", "spam", "public"])
def test_never_on_crisis_vip_spam_or_public_conversations(field: str) -> None:
    situation = replace(CLOSED, **{field: True})
    both = AutoAnswerSettings(away=True, away_texts={"en": "x"}, faq=True)
    assert decide(both, situation, [HOURS]) is None
    assert decide(both, CLOSED, [HOURS]) is not None


def test_the_away_message_goes_when_closed_in_the_customers_language_once_in_12_hours() -> None:
    sent = decide(AWAY, CLOSED, [])
    assert sent is not None and sent.kind == "away" and sent.language == "fa"
    assert fill_opens(sent.text, "دوشنبه 09:00") == "بسته‌ایم؛ از دوشنبه 09:00 پاسخ می‌دهیم."
    assert decide(AWAY, replace(CLOSED, open_now=True), []) is None
    assert decide(AWAY, replace(CLOSED, last_away_at=NOW - timedelta(hours=2)), []) is None
    assert decide(AWAY, replace(CLOSED, last_away_at=NOW - timedelta(hours=13)), []) is not None
    thai = decide(AWAY, replace(CLOSED, language="th"), [])
    assert thai is not None and thai.language == "en"  # no Thai text: English


def test_a_faq_answer_only_for_a_clear_first_question_in_the_customers_language() -> None:
    sent = decide(FAQ, CLOSED, [HOURS, Candidate("parking", "...", "fa", 0.40)])
    assert sent is not None and sent.kind == "faq" and sent.faq_key == "hours"
    assert decide(FAQ, CLOSED, [HOURS, Candidate("parking", "...", "fa", 0.68)]) is None  # not clearly ahead
    assert decide(FAQ, CLOSED, [replace(HOURS, score=0.4)]) is None  # not a clear match
    assert decide(FAQ, CLOSED, [replace(HOURS, language="en")]) is None  # not in Persian
    assert decide(FAQ, replace(CLOSED, first_message=False), [HOURS]) is None
    assert decide(FAQ, replace(CLOSED, answered_before=True), [HOURS]) is None
    both = AutoAnswerSettings(away=True, away_texts={"fa": "بسته‌ایم"}, faq=True)
    assert decide(both, CLOSED, [HOURS]).kind == "faq"  # type: ignore[union-attr]


def test_settings_are_checked_as_the_page_and_the_file_write_them() -> None:
    assert clean({"away": {"enabled": True, "texts": {}}})[1] == [
        "away.texts: write the away message in at least one language"
    ]
    assert clean({"faq": {"enabled": True, "min_score": "7"}})[1] == [
        "faq.min_score: a number from 0.2 to 1.0"
    ]
    assert clean("yes")[1] and clean({"away": "on"})[1]
    settings, problems = clean(AWAY.as_dict())
    assert problems == [] and settings == AWAY
    assert fill_opens("{opens} {0} {__class__}", "Mon") == "Mon {0} {__class__}"
