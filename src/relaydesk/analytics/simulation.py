"""A day of arrivals through the real assignment code: SLA attainment, queue waits, fairness.

Pure and seeded: the same arguments give the same report. Arrivals are Poisson with an
hour-of-day shape (social traffic peaks at lunch and in the evening); handling times are
exponential; each agent works several conversations at once, as social agents do.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from relaydesk.analytics.kpis import percentile
from relaydesk.routing.assignment import (
    AgentCandidate,
    AssignmentNeed,
    WaitingItem,
    choose_agent,
    drain_queue,
)

# Relative arrival intensity per hour of day (mean 1.0): quiet nights, lunch and evening peaks.
DAY_SHAPE = [
    0.3, 0.2, 0.15, 0.15, 0.2, 0.35, 0.6, 0.9, 1.2, 1.3, 1.3, 1.4,
    1.6, 1.5, 1.3, 1.2, 1.2, 1.3, 1.5, 1.6, 1.5, 1.2, 0.8, 0.5,
]  # fmt: skip
LANGUAGES = ["en", "fa", "ar", "he", "th"]


@dataclass(frozen=True)
class SimulationConfig:
    agents: int = 10
    rate_per_hour: float = 60.0
    hours: float = 24.0
    handle_minutes: float = 12.0
    max_concurrent: int = 3
    first_response_minutes: float = 15.0
    reply_delay_minutes: float = 2.0  # from assignment to the agent's first reply
    strategy: str = "least_loaded"
    multilingual_share: float = 0.6  # share of agents speaking every language
    seed: int = 7


@dataclass
class SimulationReport:
    arrivals: int
    assigned: int
    still_waiting: int
    sla_met: int
    sla_attainment: float | None
    queue_wait_mean_s: float | None
    queue_wait_p90_s: float | None
    queue_wait_max_s: float | None
    handled_per_agent: dict[str, int] = field(default_factory=dict)
    load_ratio_max_min: float | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _arrival_times(cfg: SimulationConfig, rng: random.Random) -> list[float]:
    """Non-homogeneous Poisson arrivals by thinning, in seconds from the start."""
    peak = cfg.rate_per_hour * max(DAY_SHAPE) / 3600.0
    times: list[float] = []
    t = 0.0
    end = cfg.hours * 3600.0
    if peak <= 0:
        return times
    while True:
        t += rng.expovariate(peak)
        if t >= end:
            return times
        hour = int(t // 3600) % 24
        if rng.random() < DAY_SHAPE[hour] / max(DAY_SHAPE):
            times.append(t)


def simulate(cfg: SimulationConfig) -> SimulationReport:
    if cfg.agents < 1 or cfg.rate_per_hour < 0 or cfg.hours <= 0 or cfg.max_concurrent < 1:
        raise ValueError("agents and max_concurrent must be >= 1, rate >= 0 and hours > 0")
    rng = random.Random(cfg.seed)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    multilingual = max(1, round(cfg.agents * cfg.multilingual_share))
    agents = [
        AgentCandidate(
            id=i + 1,
            handle=f"agent{i + 1}",
            languages=list(LANGUAGES) if i < multilingual else ["en", LANGUAGES[1 + i % 4]],
            skills=[],
            online=True,
            on_shift=True,
            open_count=0,
            max_concurrent=cfg.max_concurrent,
            last_assigned_at=None,
        )
        for i in range(cfg.agents)
    ]
    by_id = {a.id: a for a in agents}
    handled = dict.fromkeys(by_id, 0)
    events: list[tuple[float, int, str, int]] = []  # (time, seq, kind, id)
    seq = 0
    languages: dict[int, str] = {}
    arrived_at: dict[int, float] = {}
    for conv_id, t in enumerate(_arrival_times(cfg, rng), start=1):
        languages[conv_id] = rng.choices(LANGUAGES, weights=[4, 2, 2, 1, 1])[0]
        arrived_at[conv_id] = t
        heapq.heappush(events, (t, seq, "arrive", conv_id))
        seq += 1
    waiting: dict[int, WaitingItem] = {}
    waits: list[float] = []
    met = 0

    def assign(conv_id: int, agent_id: int, now: float) -> None:
        nonlocal seq, met
        agent = by_id[agent_id]
        agent.open_count += 1
        agent.last_assigned_at = start + timedelta(seconds=now)
        handled[agent_id] += 1
        wait = now - arrived_at[conv_id]
        waits.append(wait)
        if wait + cfg.reply_delay_minutes * 60 <= cfg.first_response_minutes * 60:
            met += 1
        duration = rng.expovariate(1.0 / (cfg.handle_minutes * 60)) if cfg.handle_minutes > 0 else 0.0
        heapq.heappush(events, (now + duration, seq, "done", agent_id))
        seq += 1

    while events:
        now, _, kind, ident = heapq.heappop(events)
        if kind == "arrive":
            need = AssignmentNeed(language=languages[ident], required_skills=[], sticky_agent_id=None)
            choice = choose_agent(agents, need, cfg.strategy)
            if choice.agent_id is not None:
                assign(ident, choice.agent_id, now)
            else:
                waiting[ident] = WaitingItem(
                    conversation_id=ident,
                    waiting_since=start + timedelta(seconds=arrived_at[ident]),
                    language=languages[ident],
                )
        else:
            by_id[ident].open_count -= 1
            if waiting:
                for conv_id, agent_id, _reason in drain_queue(list(waiting.values()), agents, cfg.strategy):
                    waiting.pop(conv_id, None)
                    assign(conv_id, agent_id, now)
    loads: list[int] = list(handled.values())
    low = min(loads) if loads else 0
    high = max(loads) if loads else 0
    return SimulationReport(
        arrivals=len(arrived_at),
        assigned=len(waits),
        still_waiting=len(waiting),
        sla_met=met,
        sla_attainment=met / len(arrived_at) if arrived_at else None,
        queue_wait_mean_s=sum(waits) / len(waits) if waits else None,
        queue_wait_p90_s=percentile(waits, 0.9) if waits else None,
        queue_wait_max_s=max(waits) if waits else None,
        handled_per_agent={by_id[i].handle: n for i, n in handled.items()},
        load_ratio_max_min=(high / low) if low else (math.inf if high else None),
    )
