"""A report for a date range, read from rollup rows (pure: the service hands the rows in).

The numbers mean what analytics/kpis.py says; durations come from histograms (analytics/rollup.py),
so a median is exact to within its bucket (30 s under 2 min, 5 min around half an hour...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from relaydesk.analytics.kpis import RESPONSE_WINDOWS, SLA_TARGETS, Rate
from relaydesk.analytics.rollup import Measures, histogram_quantile

MAX_RANGE_DAYS = 400


@dataclass(frozen=True, slots=True)
class Period:
    start: date  # first local day, inclusive
    end: date  # last local day, inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same number of days just before: what "compared with" means on the page."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]


def parse_period(start: str, end: str, today: date, default_days: int = 30) -> Period:
    """From two ISO dates (either may be empty); raises ValueError naming what is wrong."""
    try:
        last = date.fromisoformat(end) if end else today
    except ValueError as exc:
        raise ValueError(f"to: {end!r} is not a date (YYYY-MM-DD)") from exc
    try:
        first = date.fromisoformat(start) if start else last - timedelta(days=default_days - 1)
    except ValueError as exc:
        raise ValueError(f"from: {start!r} is not a date (YYYY-MM-DD)") from exc
    if first > last:
        raise ValueError(f"from: {first.isoformat()} is after to: {last.isoformat()}")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValueError(f"from/to: at most {MAX_RANGE_DAYS} days at once")
    return Period(first, last)


@dataclass(frozen=True, slots=True)
class Durations:
    count: int
    median: float | None
    p90: float | None
    mean: float | None


def durations(measures: Measures, name: str, total_key: str | None = None) -> Durations:
    histogram = measures.histogram(name)
    count = sum(histogram)
    mean = measures[total_key] / count if total_key and count else None
    return Durations(count, histogram_quantile(histogram, 0.5), histogram_quantile(histogram, 0.9), mean)


@dataclass(frozen=True, slots=True)
class Figures:
    """The headline numbers of a set of conversations."""

    conversations: int
    with_inbound: int
    answered: Rate
    within: dict[str, Rate]
    unanswered_after_72h: Rate
    first_response: Durations
    first_response_business: Durations
    resolution: Durations
    resolved: int
    sla: dict[str, Rate]
    sentiment: dict[str, int]
    negative_share: float | None
    approvals_requested: int
    approvals_approved: int
    approvals_rejected: int
    approvals_waiting: int
    review_time: Durations


def figures(m: Measures) -> Figures:
    within = {w: Rate.of(m[f"answered_{w}"], m[f"eligible_{w}"]) for w in RESPONSE_WINDOWS}
    after = within["72h"]
    sentiment = {name: m[name] for name in ("positive", "neutral", "negative")}
    sentiment["unknown"] = max(0, m["conversations"] - sum(sentiment.values()))
    decided = m["approvals_approved"] + m["approvals_rejected"]
    return Figures(
        conversations=m["conversations"],
        with_inbound=m["with_inbound"],
        answered=Rate.of(m["answered"], m["with_inbound"]),
        within=within,
        unanswered_after_72h=Rate.of(after.denominator - after.numerator, after.denominator),
        first_response=durations(m, "first_response", "first_response_sum"),
        first_response_business=durations(m, "first_response_business"),
        resolution=durations(m, "resolution", "resolution_sum"),
        resolved=m["resolved"],
        sla={t: Rate.of(m[f"sla_{t}_met"], m[f"sla_{t}_decided"]) for t in SLA_TARGETS},
        sentiment=sentiment,
        negative_share=m["negative"] / m["conversations"] if m["conversations"] else None,
        approvals_requested=m["approvals_requested"],
        approvals_approved=m["approvals_approved"],
        approvals_rejected=m["approvals_rejected"],
        approvals_waiting=max(0, m["approvals_requested"] - decided),
        review_time=durations(m, "review"),
    )


@dataclass(frozen=True, slots=True)
class GroupLine:
    """One line of a breakdown table: a value, its shown name and its figures."""

    value: str
    name: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class DayPoint:
    day: date
    conversations: int
    answered_share: float | None
    first_response_median: float | None
    negative_share: float | None


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    previous: Period
    totals: Figures
    before: Figures  # the previous period's, for the comparison
    series: list[DayPoint]
    breakdowns: dict[str, list[GroupLine]] = field(default_factory=dict)
    hour_of_week: list[list[float]] = field(default_factory=list)  # [weekday][hour] per week
    sizes: dict[str, int] = field(default_factory=dict)  # lines of each breakdown before any limit


def measures_of(fields: Sequence[int], bands: Sequence[int] | None = None) -> Measures:
    """A summed row (FIELDS order) and, for totals, its duration bands (HISTOGRAM_FIELDS order)."""
    return Measures(
        np.asarray(fields, dtype=np.int64), np.asarray(bands, dtype=np.int64) if bands is not None else None
    )


def total(rows: Iterable[Measures]) -> Measures:
    out = Measures()
    for row in rows:
        out.add(row)
    return out


def daily_series(period: Period, per_day: Mapping[date, Measures]) -> list[DayPoint]:
    """One point per day of the period, empty days included, so a chart's gaps are real."""
    points = []
    for day in period.each_day():
        m = per_day.get(day) or Measures()
        f = figures(m)
        points.append(
            DayPoint(day, f.conversations, f.answered.share, f.first_response.median, f.negative_share)
        )
    return points


def breakdown(
    groups: Mapping[str, Measures], names: Mapping[str, str] | None = None, limit: int | None = None
) -> list[GroupLine]:
    """Lines by conversations, most first, ties by name so the order is stable; the first `limit`."""
    shown = names or {}
    order = sorted(groups, key=lambda value: (-groups[value]["conversations"], shown.get(value, value)))
    return [GroupLine(value, shown.get(value, value), figures(groups[value])) for value in order[:limit]]


def hour_grid(period: Period, cells: Mapping[str, int]) -> list[list[float]]:
    """Average conversations per hour of week ("<weekday>-<hour>" keys), over the period's weeks."""
    weeks = max(1.0, period.days / 7)
    grid = [[0.0] * 24 for _ in range(7)]
    for key, count in cells.items():
        weekday, _, hour = key.partition("-")
        if weekday.isdigit() and hour.isdigit() and int(weekday) < 7 and int(hour) < 24:
            grid[int(weekday)][int(hour)] += count / weeks
    return grid


def change(now: float | None, before: float | None) -> float | None:
    """Relative change from the previous period; None when there is nothing to compare."""
    if now is None or before is None or before == 0:
        return None
    return (now - before) / before
