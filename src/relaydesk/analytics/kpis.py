"""KPI maths over plain facts about conversations: no database, so reports and tests share one truth.

Definitions (the reports page and the docs quote these):

* First response time = first response minus first inbound message, in seconds (clamped at 0).
  Only answered conversations have one.
* Percentiles use linear interpolation between closest ranks (Hyndman & Fan type 7, the default of
  numpy and of spreadsheets' PERCENTILE.INC): for sorted x of length n, p = x[h] interpolated at
  h = (n - 1) * q.
* Response rate "answered at all" = answered / conversations with an inbound message.
  "Answered within W" only counts conversations that have had the whole window: the denominator holds
  those answered within W plus those whose first inbound is at least W before ``now``, so a message
  that arrived ten minutes ago is not yet a failure of the 1-hour window.
  "Unanswered after 72h" is the complement of "answered within 72h" over the same denominator.
* SLA attainment per target = met / (met + breached); conversations without that target (None) are left out.
* Resolution time = resolved_at minus created_at, in seconds.
* Approvals: "requested" counts replies held as drafts; "approved" / "rejected" count the decisions;
  "waiting" is requested minus decided (clamped at 0). Review time is draft to decision, in seconds,
  over every decision (a rejection held the customer's answer just as long as an approval).
* By team: the agency's conversations (those in a department the agency staffs) are grouped as
  ``agency:<key>`` and everything else as ``in-house``, so each side's SLA attainment is separate.
* Empty inputs give counts of 0 and None for every rate and statistic, never an exception.
* Datetimes are read as UTC when naive (SQLite returns naive values for UTC columns).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relaydesk.core.enums import Sentiment
from relaydesk.core.timeutil import as_utc

UNKNOWN_GROUP = "unknown"
RESPONSE_WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "72h": timedelta(hours=72),
}
SLA_TARGETS = ("first_response", "next_response", "resolution")

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    """What the KPIs need to know about one conversation; built by the analytics service."""

    created_at: datetime
    first_inbound_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    department: str | None = None
    channel: str | None = None
    sentiment: str | None = None
    sla_first_response_met: bool | None = None  # None: no such target, or not decided yet
    sla_next_response_met: bool | None = None
    sla_resolution_met: bool | None = None
    first_response_business_seconds: float | None = None  # counted by the business-hours clock
    team: str | None = None  # "agency:<key>" or "in-house"; None = not known
    approvals_requested: int = 0
    approvals_approved: int = 0
    approvals_rejected: int = 0
    review_seconds: tuple[float, ...] = ()  # draft -> decision, one per decision
    # Where it belongs, for the rollups' breakdowns (analytics/rollup.py); ids, None = none.
    conversation_id: int | None = None
    location_id: int | None = None
    department_id: int | None = None
    account_id: int | None = None
    assignee_id: int | None = None
    intent: str | None = None
    language: str | None = None
    stage: str | None = None
    sla_policy: str | None = None  # the policy the first SLA clock ran by

    def __post_init__(self) -> None:
        for name in ("created_at", "first_inbound_at", "first_response_at", "resolved_at"):
            object.__setattr__(self, name, as_utc(getattr(self, name)))

    @property
    def first_response_seconds(self) -> float | None:
        if self.first_inbound_at is None or self.first_response_at is None:
            return None
        return max(0.0, (self.first_response_at - self.first_inbound_at).total_seconds())

    @property
    def resolution_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return max(0.0, (self.resolved_at - self.created_at).total_seconds())

    def sla_met(self, target: str) -> bool | None:
        if target not in SLA_TARGETS:
            raise ValueError(f"unknown SLA target {target!r} (expected one of {', '.join(SLA_TARGETS)})")
        value: bool | None = getattr(self, f"sla_{target}_met")
        return value


@dataclass(frozen=True, slots=True)
class Rate:
    numerator: int
    denominator: int
    share: float | None  # numerator / denominator; None when nothing was counted

    @classmethod
    def of(cls, numerator: int, denominator: int) -> Rate:
        return cls(numerator, denominator, numerator / denominator if denominator else None)


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Seconds; every statistic is None when count is 0."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None


@dataclass(frozen=True, slots=True)
class ResponseRates:
    with_inbound: int
    answered: Rate
    within: dict[str, Rate]  # keyed by RESPONSE_WINDOWS labels
    unanswered_after_72h: Rate


@dataclass(frozen=True, slots=True)
class SentimentMix:
    counts: dict[str, int]
    shares: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class GroupKpis:
    conversations: int
    first_response: DurationStats
    answered: Rate
    answered_within_24h: Rate
    sla: dict[str, Rate]
    resolution: DurationStats


@dataclass(frozen=True, slots=True)
class ApprovalKpis:
    requested: int
    approved: int
    rejected: int
    waiting: int
    review_time: DurationStats


@dataclass(frozen=True, slots=True)
class KpiSummary:
    generated_at: datetime
    conversations: int
    first_response: DurationStats
    first_response_business: DurationStats
    response: ResponseRates
    sla: dict[str, Rate]
    resolution: DurationStats
    sentiment: SentimentMix
    by_department: dict[str, GroupKpis] = field(default_factory=dict)
    by_channel: dict[str, GroupKpis] = field(default_factory=dict)
    by_hour: dict[int, GroupKpis] = field(default_factory=dict)  # hour of the first inbound, local
    by_team: dict[str, GroupKpis] = field(default_factory=dict)  # agency vs in-house
    approvals: ApprovalKpis | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO strings."""
        data = asdict(self)
        data["generated_at"] = self.generated_at.isoformat()
        return data


# --- statistics ----------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-quantile (0 <= q <= 1) by linear interpolation (type 7); None for no values."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be between 0 and 1, got {q!r}")
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (position - lower) * (ordered[upper] - ordered[lower])


def duration_stats(values: Iterable[float | None]) -> DurationStats:
    present = sorted(value for value in values if value is not None)
    if not present:
        return DurationStats(count=0, mean=None, median=None, p90=None, max=None)
    return DurationStats(
        count=len(present),
        mean=math.fsum(present) / len(present),
        median=percentile(present, 0.5),
        p90=percentile(present, 0.9),
        max=present[-1],
    )


# --- KPIs ----------------------------------------------------------------------------------------


def first_response_stats(facts: Iterable[ConversationFacts]) -> DurationStats:
    return duration_stats(fact.first_response_seconds for fact in facts)


def business_first_response_stats(facts: Iterable[ConversationFacts]) -> DurationStats:
    return duration_stats(fact.first_response_business_seconds for fact in facts)


def resolution_stats(facts: Iterable[ConversationFacts]) -> DurationStats:
    return duration_stats(fact.resolution_seconds for fact in facts)


def answered_within(facts: Iterable[ConversationFacts], window: timedelta, now: datetime) -> Rate:
    """Share answered within ``window`` of the first inbound, among those that had the whole window."""
    current = _utc(now)
    answered = eligible = 0
    for fact in facts:
        if fact.first_inbound_at is None:
            continue
        response = fact.first_response_seconds
        if response is not None and response <= window.total_seconds():
            answered += 1
            eligible += 1
        elif current - fact.first_inbound_at >= window:
            eligible += 1
    return Rate.of(answered, eligible)


def response_rates(facts: Sequence[ConversationFacts], now: datetime) -> ResponseRates:
    with_inbound = [fact for fact in facts if fact.first_inbound_at is not None]
    answered = sum(1 for fact in with_inbound if fact.first_response_at is not None)
    within = {label: answered_within(with_inbound, window, now) for label, window in RESPONSE_WINDOWS.items()}
    after_72h = within["72h"]
    return ResponseRates(
        with_inbound=len(with_inbound),
        answered=Rate.of(answered, len(with_inbound)),
        within=within,
        unanswered_after_72h=Rate.of(after_72h.denominator - after_72h.numerator, after_72h.denominator),
    )


def sla_attainment(facts: Iterable[ConversationFacts]) -> dict[str, Rate]:
    met = dict.fromkeys(SLA_TARGETS, 0)
    decided = dict.fromkeys(SLA_TARGETS, 0)
    for fact in facts:
        for target in SLA_TARGETS:
            outcome = fact.sla_met(target)
            if outcome is None:
                continue
            decided[target] += 1
            met[target] += int(outcome)
    return {target: Rate.of(met[target], decided[target]) for target in SLA_TARGETS}


def sentiment_mix(facts: Iterable[ConversationFacts]) -> SentimentMix:
    counts: dict[str, int] = {sentiment.value: 0 for sentiment in Sentiment}
    counts[UNKNOWN_GROUP] = 0
    for fact in facts:
        label = fact.sentiment if fact.sentiment in counts else UNKNOWN_GROUP
        counts[label or UNKNOWN_GROUP] += 1
    total = sum(counts.values())
    shares = {label: (count / total if total else None) for label, count in counts.items()}
    return SentimentMix(counts=counts, shares=shares)


def group_kpis(facts: Sequence[ConversationFacts], now: datetime) -> GroupKpis:
    return GroupKpis(
        conversations=len(facts),
        first_response=first_response_stats(facts),
        answered=Rate.of(
            sum(1 for fact in facts if fact.first_inbound_at and fact.first_response_at),
            sum(1 for fact in facts if fact.first_inbound_at),
        ),
        answered_within_24h=answered_within(facts, RESPONSE_WINDOWS["24h"], now),
        sla=sla_attainment(facts),
        resolution=resolution_stats(facts),
    )


def breakdown(
    facts: Iterable[ConversationFacts], key: Callable[[ConversationFacts], K], now: datetime
) -> dict[K, GroupKpis]:
    groups: dict[K, list[ConversationFacts]] = {}
    for fact in facts:
        groups.setdefault(key(fact), []).append(fact)
    return {group: group_kpis(members, now) for group, members in groups.items()}


def by_department(facts: Iterable[ConversationFacts], now: datetime) -> dict[str, GroupKpis]:
    return breakdown(facts, lambda fact: fact.department or UNKNOWN_GROUP, now)


def by_channel(facts: Iterable[ConversationFacts], now: datetime) -> dict[str, GroupKpis]:
    return breakdown(facts, lambda fact: fact.channel or UNKNOWN_GROUP, now)


def by_hour_of_day(
    facts: Iterable[ConversationFacts], now: datetime, tz: str = "UTC"
) -> dict[int, GroupKpis]:
    """All 24 hours (empty ones too, so charts stay regular), by the local hour of the first inbound."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc

    def hour(fact: ConversationFacts) -> int:
        return (fact.first_inbound_at or fact.created_at).astimezone(zone).hour

    grouped = breakdown(facts, hour, now)
    return {h: grouped.get(h) or group_kpis([], now) for h in range(24)}


def approval_kpis(facts: Iterable[ConversationFacts]) -> ApprovalKpis:
    requested = approved = rejected = 0
    times: list[float] = []
    for fact in facts:
        requested += fact.approvals_requested
        approved += fact.approvals_approved
        rejected += fact.approvals_rejected
        times.extend(max(0.0, seconds) for seconds in fact.review_seconds)
    return ApprovalKpis(
        requested=requested,
        approved=approved,
        rejected=rejected,
        waiting=max(0, requested - approved - rejected),
        review_time=duration_stats(times),
    )


def by_team(facts: Iterable[ConversationFacts], now: datetime) -> dict[str, GroupKpis]:
    return breakdown(facts, lambda fact: fact.team or UNKNOWN_GROUP, now)


def summarize(facts: Iterable[ConversationFacts], now: datetime, tz: str = "UTC") -> KpiSummary:
    """Every KPI of the reports page; ``tz`` sets the hour-of-day buckets."""
    items = list(facts)
    return KpiSummary(
        generated_at=_utc(now),
        conversations=len(items),
        first_response=first_response_stats(items),
        first_response_business=business_first_response_stats(items),
        response=response_rates(items, now),
        sla=sla_attainment(items),
        resolution=resolution_stats(items),
        sentiment=sentiment_mix(items),
        by_department=by_department(items, now),
        by_channel=by_channel(items, now),
        by_hour=by_hour_of_day(items, now, tz),
        by_team=by_team(items, now),
        approvals=approval_kpis(items),
    )


def _utc(value: datetime) -> datetime:
    converted = as_utc(value)
    if converted is None:
        raise ValueError("now is required")
    return converted
