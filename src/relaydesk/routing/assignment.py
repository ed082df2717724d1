"""Choosing the agent for a conversation in a department queue, and draining the queue fairly.

Eligible means: active, online, on shift, under capacity (open < max_concurrent), speaks the
conversation's language (None / "und" = any language; an agent's "pt" covers "pt-br"), may
take that language under their agency's contract (`contract_languages`; empty = any), and
has every required skill (case-insensitive). `on_shift` is computed by the caller (see
`relaydesk.orgs.shifts.is_on_shift`) so this module stays clock-free.

Strategies:
- least_loaded: lowest open/max ratio; ties go to fewer open conversations, then the agent
  idle longest (never assigned counts as idle longest), then the lowest id.
- round_robin: the agent whose last assignment is oldest (never assigned first), then lowest id.
- manual: never assigns; agents pull from the queue.
An eligible sticky agent (the one a returning customer spoke to) wins under either automatic
strategy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Literal

from relaydesk.core.enums import PRIORITY_ORDER, Priority

Strategy = Literal["least_loaded", "round_robin", "manual"]
STRATEGIES: tuple[str, ...] = ("least_loaded", "round_robin", "manual")
_ANY_LANGUAGE = {"", "und"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PRIORITY_RANK = {p.value: i for i, p in enumerate(PRIORITY_ORDER)}


@dataclass
class AgentCandidate:
    id: int
    handle: str
    languages: list[str]
    skills: list[str]
    online: bool
    on_shift: bool
    open_count: int
    max_concurrent: int
    last_assigned_at: datetime | None
    active: bool = True
    # An agency agent's contract languages (AgencyContract.languages); empty = any language.
    contract_languages: list[str] = field(default_factory=list)


@dataclass
class AssignmentNeed:
    language: str | None = None
    required_skills: list[str] = field(default_factory=list)
    sticky_agent_id: int | None = None


@dataclass(frozen=True)
class AssignmentChoice:
    agent_id: int | None
    reason: str
    considered: list[str]  # one line per candidate: eligible, or why not
    # Why, as a word the pages translate: returning | least_loaded | round_robin when an agent was
    # chosen; manual | nobody | none_eligible when the conversation waits.
    how: str = ""


@dataclass
class WaitingItem:
    conversation_id: int
    waiting_since: datetime
    language: str | None = None
    required_skills: list[str] = field(default_factory=list)
    priority: str = Priority.NORMAL.value
    sticky_agent_id: int | None = None


def _utc(value: datetime) -> datetime:
    # Storage may hand back naive UTC values; comparing naive with aware raises.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _covers(languages: Sequence[str], language: str | None) -> bool:
    if language is None or language.lower() in _ANY_LANGUAGE:
        return True
    want = language.lower()
    known = {lang.lower() for lang in languages}
    return want in known or want.split("-")[0] in known


def _speaks(agent: AgentCandidate, language: str | None) -> bool:
    return _covers(agent.languages, language)


def ineligibility(agent: AgentCandidate, need: AssignmentNeed) -> list[str]:
    """Why `agent` cannot take the conversation now; empty when they can."""
    why: list[str] = []
    if not agent.active:
        why.append("inactive")
    if not agent.online:
        why.append("offline")
    if not agent.on_shift:
        why.append("off shift")
    if agent.open_count >= agent.max_concurrent:
        why.append(f"at capacity ({agent.open_count}/{agent.max_concurrent})")
    if not _speaks(agent, need.language):
        why.append(f"no language '{need.language}'")
    elif agent.contract_languages and not _covers(agent.contract_languages, need.language):
        why.append(
            f"'{need.language}' is outside the agency contract ({', '.join(agent.contract_languages)})"
        )
    have = {s.casefold() for s in agent.skills}
    missing = [s for s in need.required_skills if s.casefold() not in have]
    if missing:
        why.append("missing skill " + ", ".join(f"'{s}'" for s in missing))
    return why


def _idle_key(agent: AgentCandidate) -> datetime:
    return _EPOCH if agent.last_assigned_at is None else _utc(agent.last_assigned_at)


def _least_loaded_key(agent: AgentCandidate) -> tuple[Fraction, int, datetime, int]:
    # Fraction, not float: 1/3 and 2/6 must tie exactly so the documented tie-breaks apply.
    return (
        Fraction(agent.open_count, max(agent.max_concurrent, 1)),
        agent.open_count,
        _idle_key(agent),
        agent.id,
    )


def _round_robin_key(agent: AgentCandidate) -> tuple[datetime, int]:
    return (_idle_key(agent), agent.id)


def _load(agent: AgentCandidate) -> str:
    return f"{agent.open_count}/{agent.max_concurrent} open"


def choose_agent(
    candidates: Sequence[AgentCandidate], need: AssignmentNeed, strategy: str = "least_loaded"
) -> AssignmentChoice:
    """Pick one agent, or None (the conversation waits in the department queue), with a reason."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown assignment strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    considered: list[str] = []
    eligible: list[AgentCandidate] = []
    skipped: list[str] = []
    for agent in candidates:
        why = ineligibility(agent, need)
        if why:
            line = f"{agent.handle}: {', '.join(why)}"
            skipped.append(line)
        else:
            line = f"{agent.handle}: eligible ({_load(agent)})"
            eligible.append(agent)
        considered.append(line)

    if strategy == "manual":
        return AssignmentChoice(None, "department uses manual pull", considered, "manual")
    if not candidates:
        return AssignmentChoice(
            None, "no agents in this department; waiting in the queue", considered, "nobody"
        )
    if not eligible:
        return AssignmentChoice(
            None,
            "no eligible agent, waiting in the queue: " + "; ".join(skipped),
            considered,
            "none_eligible",
        )

    if need.sticky_agent_id is not None:
        sticky = next((a for a in eligible if a.id == need.sticky_agent_id), None)
        if sticky is not None:
            reason = (
                f"returning customer: {sticky.handle} handled them before and is available ({_load(sticky)})"
            )
            return AssignmentChoice(sticky.id, reason, considered, "returning")
        known = next((a for a in candidates if a.id == need.sticky_agent_id), None)
        if known is not None:
            considered.append(f"returning customer's agent {known.handle} is not available")

    if strategy == "least_loaded":
        chosen = min(eligible, key=_least_loaded_key)
        reason = f"least loaded: {chosen.handle} has {_load(chosen)} (of {len(eligible)} eligible)"
    else:
        chosen = min(eligible, key=_round_robin_key)
        when = "never assigned" if chosen.last_assigned_at is None else "longest since last assignment"
        reason = f"round robin: {chosen.handle} is next ({when}, of {len(eligible)} eligible)"
    return AssignmentChoice(chosen.id, reason, considered, strategy)


def drain_queue(
    waiting: Sequence[WaitingItem],
    candidates: Sequence[AgentCandidate],
    strategy: str = "least_loaded",
    *,
    now: datetime | None = None,
) -> list[tuple[int, int, str]]:
    """Assign waiting conversations as agents free up: (conversation_id, agent_id, reason).

    Highest priority first, then the longest waiting, then the lowest conversation id. Each
    assignment updates a local copy of the agent's load and last-assigned time, so one free
    agent does not receive the whole queue. Items nobody can take stay waiting (left out of
    the result); the caller's candidates are not modified.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown assignment strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    if strategy == "manual":
        return []
    agents = [
        replace(
            a,
            languages=list(a.languages),
            skills=list(a.skills),
            contract_languages=list(a.contract_languages),
        )
        for a in candidates
    ]
    known_times = [_utc(a.last_assigned_at) for a in agents if a.last_assigned_at is not None]
    known_times += [_utc(w.waiting_since) for w in waiting]
    if now is not None:
        known_times.append(_utc(now))
    # Assignments made here must sort after every earlier one (even with a skewed `now`), in order.
    clock = max(known_times, default=_EPOCH)
    normal = _PRIORITY_RANK[Priority.NORMAL]

    def order(item: WaitingItem) -> tuple[int, datetime, int]:
        rank = _PRIORITY_RANK.get(str(item.priority).lower(), normal)
        return (-rank, _utc(item.waiting_since), item.conversation_id)

    assigned: list[tuple[int, int, str]] = []
    for step, item in enumerate(sorted(waiting, key=order), start=1):
        need = AssignmentNeed(item.language, list(item.required_skills), item.sticky_agent_id)
        choice = choose_agent(agents, need, strategy)
        if choice.agent_id is None:
            continue
        agent = next(a for a in agents if a.id == choice.agent_id)
        agent.open_count += 1
        agent.last_assigned_at = clock + timedelta(microseconds=step)
        assigned.append((item.conversation_id, agent.id, choice.reason))
    return assigned
