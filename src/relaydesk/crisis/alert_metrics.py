"""How fast the team handled the period's crisis alerts (pure): the reports page's crisis lines.

Per alert: minutes from raised to acknowledged, to the first reply a person sent in one of the
conversations behind it, to the first such reply on a public conversation (a comment, post,
mention or review: the brand answering where everyone reads), and to resolved. Each figure is the
median over the alerts that reached it; an alert not reached yet is left out of that median and
counted as waiting.

An alert is raised a little after the messages behind it (the watch runs every minute and a surge
is seen over up to three hours), so a reply sent in that window before the alert answers it too:
it counts, as 0 minutes. So does an acknowledgement a clock a few seconds apart puts before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

# How long before its alert a reply still answers it: the detector's longest window.
EARLY = timedelta(hours=3)


@dataclass(frozen=True)
class AlertFacts:
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    conversations: frozenset[int]  # behind it
    public: frozenset[int]  # the public ones among them


@dataclass(frozen=True)
class AlertMetrics:
    raised: int
    acknowledged: int
    answered: int
    answered_in_public: int
    resolved: int
    minutes_to_acknowledge: float | None
    minutes_to_first_answer: float | None
    minutes_to_first_public_answer: float | None
    minutes_to_resolve: float | None


def _minutes(start: datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 60)


def _median(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(median(kept), 1) if kept else None


def first_after(
    replies: Mapping[int, Sequence[datetime]], conversations: Iterable[int], at: datetime
) -> datetime | None:
    """The first reply in any of these conversations from `EARLY` before `at` on (replies sorted
    per conversation)."""
    found = [next((r for r in replies.get(c, ()) if r >= at - EARLY), None) for c in conversations]
    kept = [f for f in found if f is not None]
    return min(kept) if kept else None


def measure(alerts: Sequence[AlertFacts], replies: Mapping[int, Sequence[datetime]]) -> AlertMetrics:
    """`replies`: when people replied, per conversation, oldest first."""
    answers = [first_after(replies, a.conversations, a.opened_at) for a in alerts]
    public = [first_after(replies, a.public, a.opened_at) for a in alerts]
    return AlertMetrics(
        raised=len(alerts),
        acknowledged=sum(a.acknowledged_at is not None for a in alerts),
        answered=sum(x is not None for x in answers),
        answered_in_public=sum(x is not None for x in public),
        resolved=sum(a.resolved_at is not None for a in alerts),
        minutes_to_acknowledge=_median(_minutes(a.opened_at, a.acknowledged_at) for a in alerts),
        minutes_to_first_answer=_median(
            _minutes(a.opened_at, x) for a, x in zip(alerts, answers, strict=True)
        ),
        minutes_to_first_public_answer=_median(
            _minutes(a.opened_at, x) for a, x in zip(alerts, public, strict=True)
        ),
        minutes_to_resolve=_median(_minutes(a.opened_at, a.resolved_at) for a in alerts),
    )
