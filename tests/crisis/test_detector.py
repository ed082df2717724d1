"""The surge detector on recorded series: a surge fires within minutes, a weekly peak it has seen
does not, an alert is one per storm, and the state survives a round trip through JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np

from relaydesk.crisis import detector as d

MONDAY = datetime(2026, 3, 2)


def shape(at: datetime) -> float:
    """Negative messages an hour: quiet nights, busy days, and Friday evenings three times busier."""
    base = 2.0 if at.hour < 8 else 12.0
    if at.weekday() == 4 and 18 <= at.hour < 22:
        base *= 3
    return base


def recorded(weeks: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    minutes = weeks * 7 * 1440
    rates = np.array([shape(MONDAY + timedelta(minutes=m)) / 60 for m in range(minutes)])
    return rng.poisson(rates)


def replay(counts: np.ndarray, start_checking: int) -> list[tuple[int, d.Decision]]:
    baseline, state = d.Baseline(), d.SeriesState()
    cumulative = np.concatenate([[0], np.cumsum(counts)])
    out = []
    for minute in range(60, len(counts)):
        now = MONDAY + timedelta(minutes=minute)
        if minute % 60 == 0:
            baseline.learn(now - timedelta(hours=1), int(cumulative[minute] - cumulative[minute - 60]))
        if minute < start_checking:
            continue
        readings = []
        for window in d.WINDOWS:
            observed = int(cumulative[minute] - cumulative[max(0, minute - window)])
            found = d.check_window(observed, baseline.expected(now, window), window)
            if found is not None:
                readings.append(found)
        decision = d.decide(state, now, readings)
        if decision.reading is not None or decision.ended:
            out.append((minute, decision))
    return out


def test_a_seasonal_peak_does_not_fire_and_a_surge_does() -> None:
    counts = recorded(weeks=4)
    week = 7 * 1440
    quiet = replay(counts, start_checking=2 * week)
    assert [m for m, dec in quiet if dec.raised] == []  # two weeks of Friday evenings, no alert
    # the fourth Wednesday at 14:00: the negative messages triple for two hours
    surge_at = 3 * week + 2 * 1440 + 14 * 60
    surged = counts.copy()
    rng = np.random.default_rng(9)
    surged[surge_at : surge_at + 120] += rng.poisson(2 * 12.0 / 60, size=120)
    fired = replay(surged, start_checking=2 * week)
    raised = [m for m, dec in fired if dec.raised]
    assert len(raised) == 1, raised  # one storm, one alert
    assert 0 <= raised[0] - surge_at <= 30
    assert any(dec.ended for m, dec in fired if m > surge_at + 120)  # quiet again afterwards


def test_a_quiet_shop_is_not_a_crisis_for_three_messages() -> None:
    assert d.check_window(3, 0.2, 15) is None  # improbable, but below the minimum count
    assert d.check_window(30, 2.0, 15) is not None
    assert d.tail_probability(0, 5.0) == 1.0
    assert d.tail_probability(30, 5.0) < d.tail_probability(10, 5.0) < d.tail_probability(5, 5.0)


def test_state_round_trips_and_damaged_state_starts_over() -> None:
    baseline = d.Baseline()
    for hour in range(200):
        baseline.learn(MONDAY + timedelta(hours=hour), hour % 7)
    again = d.Baseline.of(json.loads(json.dumps(baseline.as_dict())))
    at = MONDAY + timedelta(days=10, hours=15)
    assert abs(again.expected(at, 60) - baseline.expected(at, 60)) < 1e-3
    assert d.Baseline.of({"hourly": [1.0]}).hours == 0
    state = d.SeriesState(MONDAY, MONDAY + timedelta(minutes=5), 4.0)
    assert d.SeriesState.of(json.loads(json.dumps(state.as_dict()))) == state


def test_a_clock_change_at_midnight_still_starts_a_new_day() -> None:
    # Santiago, Cairo: the local day can begin at 01:00; today's level must still start again.
    baseline = d.Baseline()
    for hour in range(23):
        baseline.learn(datetime(2026, 9, 5, hour), 10)
    baseline.learn(datetime(2026, 9, 6, 1), 3)  # no 00:00 this day
    assert baseline.day == datetime(2026, 9, 6).toordinal()
    assert baseline.day_total == 3.0 and len(baseline.recent) == 1
    assert baseline.weekday_seen[datetime(2026, 9, 5).weekday()] == 1
