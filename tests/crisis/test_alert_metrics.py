"""The reports page's crisis lines (pure): medians over the alerts that reached each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relaydesk.crisis.alert_metrics import AlertFacts, measure

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_each_step_is_the_median_of_the_alerts_that_reached_it() -> None:
    alerts = [
        AlertFacts(T0, _at(4), _at(120), frozenset({1, 2}), frozenset({2})),
        AlertFacts(T0, _at(10), None, frozenset({3}), frozenset()),
        AlertFacts(T0, None, None, frozenset({4}), frozenset({4})),
    ]
    replies = {1: [_at(30)], 2: [_at(-200), _at(50)], 3: [_at(-5)], 4: []}
    m = measure(alerts, replies)
    assert (m.raised, m.acknowledged, m.answered, m.answered_in_public, m.resolved) == (3, 2, 2, 1, 1)
    assert m.minutes_to_acknowledge == 7.0
    # alert 1: conversation 1 at 30 min (conversation 2's reply at -200 min is before the surge);
    # alert 2: a reply 5 minutes before the alert was raised answers it: 0 minutes
    assert m.minutes_to_first_answer == 15.0
    assert m.minutes_to_first_public_answer == 50.0
    assert m.minutes_to_resolve == 120.0


def test_no_alerts_no_figures() -> None:
    m = measure([], {})
    assert m.raised == 0 and m.minutes_to_acknowledge is None and m.minutes_to_first_answer is None
