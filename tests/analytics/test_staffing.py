from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaydesk.analytics.staffing import (
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c_wait_probability,
    hourly_staffing,
    service_level,
    traffic_erlangs,
)


def brute_force_erlang_c(agents: int, traffic: float) -> float:
    """The textbook closed form with exact factorials, independent of the recurrence."""
    a = Fraction(traffic)
    top = a**agents / math.factorial(agents) * Fraction(agents) / (agents - a)
    bottom = sum(a**k / math.factorial(k) for k in range(agents)) + top
    return float(top / bottom)


def brute_force_agents(rate: float, aht: float, target: float, level: float, max_occupancy: float) -> int:
    traffic = rate * aht / 3600
    agents = 1
    while True:
        if agents > traffic and traffic / agents <= max_occupancy + 1e-12:
            wait = brute_force_erlang_c(agents, traffic)
            if 1 - wait * math.exp(-(agents - traffic) * target / aht) >= level:
                return agents
        agents += 1


# 100 calls per 30 minutes, AHT 180 s, 80% answered in 20 s: the classic worked example.
RATE, AHT, TARGET = 200.0, 180.0, 20.0


def test_textbook_example_needs_fourteen_agents() -> None:
    assert traffic_erlangs(RATE, AHT) == pytest.approx(10.0)
    assert agents_needed(RATE, AHT, TARGET, 0.8) == 14
    assert service_level(14, RATE, AHT, TARGET) == pytest.approx(0.8884, abs=5e-4)
    assert service_level(13, RATE, AHT, TARGET) < 0.8
    assert erlang_c_wait_probability(14, 10.0) == pytest.approx(0.1741, abs=5e-4)
    assert average_speed_of_answer(14, RATE, AHT) == pytest.approx(7.84, abs=0.01)


@pytest.mark.parametrize(("agents", "traffic"), [(11, 10.0), (14, 10.0), (1, 0.5), (30, 22.7), (60, 55.0)])
def test_erlang_c_matches_the_factorial_formula(agents: int, traffic: float) -> None:
    assert erlang_c_wait_probability(agents, traffic) == pytest.approx(
        brute_force_erlang_c(agents, traffic), rel=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(min_value=1, max_value=600),
    aht=st.floats(min_value=30, max_value=900),
    target=st.floats(min_value=0, max_value=120),
    level=st.floats(min_value=0.5, max_value=0.95),
)
def test_agents_needed_matches_brute_force(rate: float, aht: float, target: float, level: float) -> None:
    assert agents_needed(rate, aht, target, level, max_occupancy=0.9) == brute_force_agents(
        rate, aht, target, level, 0.9
    )


def test_erlang_b_known_value() -> None:
    # 10 erlangs on 10 trunks: blocking about 21.5%.
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=1e-4)
    assert erlang_b(0, 5.0) == 1.0


def test_large_traffic_is_numerically_stable() -> None:
    wait = erlang_c_wait_probability(5_200, 5_000.0)
    assert 0.0 < wait < 1.0
    needed = agents_needed(100_000, 180, 20, 0.8)
    assert needed > 100_000 * 180 / 3600
    assert math.isfinite(service_level(needed, 100_000, 180, 20))


def test_unstable_queue() -> None:
    assert erlang_c_wait_probability(10, 10.0) == 1.0
    assert erlang_c_wait_probability(5, 10.0) == 1.0
    assert service_level(10, RATE, AHT, TARGET) == 0.0
    assert average_speed_of_answer(9, RATE, AHT) == math.inf


def test_no_traffic() -> None:
    assert erlang_c_wait_probability(3, 0.0) == 0.0
    assert service_level(0, 0, AHT, TARGET) == 1.0
    assert agents_needed(0, AHT, TARGET, 0.8) == 0


def test_service_level_rises_with_agents() -> None:
    levels = [service_level(n, RATE, AHT, TARGET) for n in range(10, 25)]
    assert levels == sorted(levels)
    assert levels[-1] > 0.999


def test_max_occupancy_can_drive_the_answer() -> None:
    # A lenient service level is met by 11 agents; at most 80% busy needs 10 / 0.8 -> 13.
    assert agents_needed(RATE, AHT, 120, 0.5, max_occupancy=1.0) == 11
    assert agents_needed(RATE, AHT, 120, 0.5, max_occupancy=0.8) == 13
    # 8.5 erlangs at 85% is exactly 10 agents, despite floating point.
    assert agents_needed(170, AHT, 600, 0.5, max_occupancy=0.85) == 10


def test_concurrency_divides_the_handle_time() -> None:
    assert traffic_erlangs(RATE, AHT, concurrency=2) == pytest.approx(5.0)
    assert agents_needed(RATE, AHT, TARGET, 0.8, concurrency=2) == agents_needed(RATE, AHT / 2, TARGET, 0.8)
    assert agents_needed(RATE, AHT, TARGET, 0.8, concurrency=3) < agents_needed(RATE, AHT, TARGET, 0.8)


def test_hourly_staffing_plan() -> None:
    arrivals = [0.0] * 8 + [RATE] * 10 + [50.0] * 6
    plan = hourly_staffing(arrivals, AHT, TARGET, 0.8, shrinkage=0.3)
    assert [hour.hour for hour in plan] == list(range(24))
    assert plan[0].agents == 0 and plan[0].scheduled_agents == 0 and plan[0].service_level == 1.0
    busy = plan[9]
    assert busy.agents == 14
    assert busy.scheduled_agents == 20  # 14 / 0.7
    assert busy.occupancy == pytest.approx(10 / 14)
    assert busy.service_level >= 0.8
    assert busy.wait_probability == pytest.approx(0.1741, abs=5e-4)
    assert busy.average_speed_of_answer_seconds == pytest.approx(7.84, abs=0.01)
    assert all(hour.service_level >= 0.8 for hour in plan)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: hourly_staffing([1.0] * 23, AHT, TARGET, 0.8), "needs 24 values"),
        (lambda: hourly_staffing([1.0] * 23 + [-1.0], AHT, TARGET, 0.8), r"arrivals_per_hour\[23\]"),
        (lambda: hourly_staffing([1.0] * 24, AHT, TARGET, 0.8, shrinkage=1.0), "shrinkage"),
        (lambda: agents_needed(RATE, AHT, TARGET, 1.0), "below 1"),
        (lambda: agents_needed(RATE, AHT, TARGET, 0.0), "target_service_level"),
        (lambda: agents_needed(RATE, 0, TARGET, 0.8), "aht_seconds"),
        (lambda: agents_needed(RATE, AHT, -5, 0.8), "target_answer_seconds"),
        (lambda: agents_needed(RATE, AHT, TARGET, 0.8, max_occupancy=1.2), "max_occupancy"),
        (lambda: agents_needed(RATE, AHT, TARGET, 0.8, concurrency=0.5), "concurrency"),
        (lambda: agents_needed(float("nan"), AHT, TARGET, 0.8), "arrival_rate_per_hour"),
        (lambda: erlang_c_wait_probability(-1, 3.0), "agents"),
        (lambda: erlang_c_wait_probability(2.5, 3.0), "agents"),  # type: ignore[arg-type]
    ],
)
def test_invalid_inputs_are_named(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()
