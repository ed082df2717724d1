"""Staffing maths: how many agents an hour needs to answer in time (Erlang C).

Model: arrivals are Poisson, handle times exponential, agents interchangeable, nobody abandons. The
Erlang B blocking probability is built with its recurrence B(0) = 1, B(k) = A·B(k-1) / (k + A·B(k-1)),
which stays between 0 and 1 at every step, so thousands of agents cause no factorial overflow; Erlang C
follows as C = n·B / (n - A·(1 - B)).

Concurrency: a social agent works several conversations at once. We model one agent handling
``concurrency`` conversations as one server whose effective handle time is ``aht_seconds /
concurrency``, where ``aht_seconds`` is the wall-clock time one conversation is open with the agent.
This assumes the conversations interleave without slowing each other down; pass the concurrency you
measure, not the configured maximum, because handle times grow when agents juggle many chats.

Service level = P(answer within t) = 1 - C·exp(-(n - A)·t / AHT). Occupancy = A / n. Shrinkage
(breaks, training, absence) turns the agents needed on the floor into agents to schedule:
scheduled = ceil(needed / (1 - shrinkage)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from relaydesk.orgs.shifts import ShiftSchedule

SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24
_MAX_SEARCH_STEPS = 1_000_000


@dataclass(frozen=True, slots=True)
class StaffingHour:
    hour: int
    arrivals_per_hour: float
    traffic_erlangs: float
    agents: int  # needed on the floor
    scheduled_agents: int  # after shrinkage
    service_level: float
    occupancy: float
    wait_probability: float
    average_speed_of_answer_seconds: float


def _check_finite(name: str, value: float, *, minimum: float = 0.0, strictly: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < minimum or (strictly and value == minimum):
        relation = "greater than" if strictly else "at least"
        raise ValueError(f"{name} must be {relation} {minimum:g}, got {value!r}")


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 0:
        raise ValueError(f"agents must be a whole number of at least 0, got {agents!r}")


def effective_aht_seconds(aht_seconds: float, concurrency: float = 1.0) -> float:
    _check_finite("aht_seconds", aht_seconds, strictly=True)
    _check_finite("concurrency", concurrency, minimum=1.0)
    return aht_seconds / concurrency


def traffic_erlangs(arrival_rate_per_hour: float, aht_seconds: float, concurrency: float = 1.0) -> float:
    """Offered load A: the average number of agents kept busy."""
    _check_finite("arrival_rate_per_hour", arrival_rate_per_hour)
    return arrival_rate_per_hour * effective_aht_seconds(aht_seconds, concurrency) / SECONDS_PER_HOUR


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability with ``agents`` servers and no queue."""
    _check_agents(agents)
    _check_finite("traffic_erlangs", traffic)
    blocking = 1.0
    for servers in range(1, agents + 1):
        blocking = traffic * blocking / (servers + traffic * blocking)
    return blocking


def _erlang_c_from_b(agents: int, traffic: float, blocking: float) -> float:
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def erlang_c_wait_probability(agents: int, traffic_erlangs: float) -> float:
    """Probability that an arrival waits at all; 1.0 when the queue is unstable (agents <= traffic)."""
    return _erlang_c_from_b(agents, traffic_erlangs, erlang_b(agents, traffic_erlangs))


def _service_level_from_c(
    agents: int, traffic: float, wait_probability: float, aht: float, target_answer_seconds: float
) -> float:
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    level = 1.0 - wait_probability * math.exp(-(agents - traffic) * target_answer_seconds / aht)
    return min(1.0, max(0.0, level))


def service_level(
    agents: int,
    arrival_rate_per_hour: float,
    aht_seconds: float,
    target_answer_seconds: float,
    concurrency: float = 1.0,
) -> float:
    """Share of arrivals answered within ``target_answer_seconds``."""
    _check_agents(agents)
    _check_finite("target_answer_seconds", target_answer_seconds)
    aht = effective_aht_seconds(aht_seconds, concurrency)
    traffic = traffic_erlangs(arrival_rate_per_hour, aht_seconds, concurrency)
    wait = erlang_c_wait_probability(agents, traffic)
    return _service_level_from_c(agents, traffic, wait, aht, target_answer_seconds)


def average_speed_of_answer(
    agents: int, arrival_rate_per_hour: float, aht_seconds: float, concurrency: float = 1.0
) -> float:
    """Mean wait in seconds over all arrivals; infinite when the queue is unstable."""
    _check_agents(agents)
    aht = effective_aht_seconds(aht_seconds, concurrency)
    traffic = traffic_erlangs(arrival_rate_per_hour, aht_seconds, concurrency)
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c_wait_probability(agents, traffic) * aht / (agents - traffic)


def agents_needed(
    arrival_rate_per_hour: float,
    aht_seconds: float,
    target_answer_seconds: float,
    target_service_level: float,
    max_occupancy: float = 0.85,
    concurrency: float = 1.0,
) -> int:
    """Fewest agents meeting the service level with occupancy at most ``max_occupancy``; 0 for no arrivals."""
    _check_finite("target_answer_seconds", target_answer_seconds)
    _check_finite("target_service_level", target_service_level, strictly=True)
    if target_service_level >= 1.0:
        raise ValueError(
            f"target_service_level must be below 1 (a queue never answers 100% in time), "
            f"got {target_service_level!r}"
        )
    _check_finite("max_occupancy", max_occupancy, strictly=True)
    if max_occupancy > 1.0:
        raise ValueError(f"max_occupancy must be at most 1, got {max_occupancy!r}")
    aht = effective_aht_seconds(aht_seconds, concurrency)
    traffic = traffic_erlangs(arrival_rate_per_hour, aht_seconds, concurrency)
    if traffic == 0:
        return 0
    # The tolerance keeps 8.5 / 0.85 = 10.000000000000002 from demanding an 11th agent.
    agents = max(1, math.floor(traffic) + 1, math.ceil(traffic / max_occupancy - 1e-9))
    blocking = erlang_b(agents, traffic)
    for _ in range(_MAX_SEARCH_STEPS):
        wait = _erlang_c_from_b(agents, traffic, blocking)
        if _service_level_from_c(agents, traffic, wait, aht, target_answer_seconds) >= target_service_level:
            return agents
        agents += 1
        blocking = traffic * blocking / (agents + traffic * blocking)
    raise ValueError(f"no staffing up to {agents} agents reaches service level {target_service_level!r}")


def hourly_staffing(
    arrivals_per_hour: Sequence[float],
    aht_seconds: float,
    target_answer_seconds: float,
    target_service_level: float,
    max_occupancy: float = 0.85,
    concurrency: float = 1.0,
    shrinkage: float = 0.0,
) -> list[StaffingHour]:
    """Agents per hour of the day for 24 forecast arrival rates (hour 0 first, in the team's zone)."""
    if len(arrivals_per_hour) != HOURS_PER_DAY:
        raise ValueError(
            f"arrivals_per_hour needs {HOURS_PER_DAY} values, one per hour, got {len(arrivals_per_hour)}"
        )
    _check_finite("shrinkage", shrinkage)
    if shrinkage >= 1.0:
        raise ValueError(f"shrinkage must be below 1, got {shrinkage!r}")
    aht = effective_aht_seconds(aht_seconds, concurrency)
    plan: list[StaffingHour] = []
    for hour, arrivals in enumerate(arrivals_per_hour):
        try:
            traffic = traffic_erlangs(arrivals, aht_seconds, concurrency)
        except ValueError as exc:
            raise ValueError(f"arrivals_per_hour[{hour}]: {exc}") from None
        agents = agents_needed(
            arrivals, aht_seconds, target_answer_seconds, target_service_level, max_occupancy, concurrency
        )
        wait = erlang_c_wait_probability(agents, traffic)
        plan.append(
            StaffingHour(
                hour=hour,
                arrivals_per_hour=float(arrivals),
                traffic_erlangs=traffic,
                agents=agents,
                scheduled_agents=math.ceil(agents / (1.0 - shrinkage) - 1e-9),
                service_level=_service_level_from_c(agents, traffic, wait, aht, target_answer_seconds),
                occupancy=traffic / agents if agents else 0.0,
                wait_probability=wait,
                average_speed_of_answer_seconds=wait * aht / (agents - traffic) if agents else 0.0,
            )
        )
    return plan


def on_shift_by_hour(
    people: Sequence[tuple[Sequence[Mapping[str, object]], str]], zone: ZoneInfo, week_of: date
) -> list[float]:
    """People on shift at half past each local hour, averaged over the seven days from `week_of`:
    what the plan's "to schedule" is held against. Shifts that do not parse count as off (the
    person's page says what is wrong with them)."""
    schedules = []
    for shifts, tz in people:
        try:
            schedules.append(ShiftSchedule.from_config(shifts, tz))
        except (ValueError, KeyError):
            continue
    counts = [0.0] * HOURS_PER_DAY
    for offset in range(7):
        day = week_of + timedelta(days=offset)
        for hour in range(HOURS_PER_DAY):
            moment = datetime.combine(day, time(hour, 30), tzinfo=zone)
            counts[hour] += sum(1 for schedule in schedules if schedule.is_on_shift(moment)) / 7
    return counts
