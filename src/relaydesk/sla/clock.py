"""Business-hours clock: when a schedule is open and how much open time lies between two instants.

The rules, in one place (SLA policies, reports and the docs all rely on them):

* ``weekly`` maps day keys ``mon``..``sun`` to wall-clock intervals ``[start, end]`` in the schedule's
  time zone. An interval whose end is at or before its start runs past midnight into the next day
  (``["22:00", "06:00"]``; ``["09:00", "09:00"]`` is a full 24 hours); ``"24:00"`` is accepted as an end.
  An empty ``weekly`` mapping means open 24/7; a day that is missing or lists nothing is closed.
* Intervals are half-open: open at their start, closed at their end.
* A holiday closes its whole local calendar day, 00:00 to 24:00, and nothing else. An overnight interval
  that starts the evening before a holiday is cut at midnight; one that starts on a holiday still opens
  after midnight on the following ordinary day. (Agent shifts in ``orgs/shifts.py`` differ on purpose:
  a shift belongs to the day it starts on.)
* A local wall-clock time becomes an instant as *the first instant at which the wall clock shows that
  time or later*:

  - in a spring-forward gap (02:30 when clocks jump from 02:00 to 03:00) that is the moment of the jump,
    so an interval 02:30-04:00 opens at 03:00 and a 22:00-06:00 night is an hour shorter;
  - in a fall-back overlap (01:30 happens twice) it is the first occurrence, so a 22:00-06:00 night is
    an hour longer and an interval ending at 01:30 ends at the first 01:30.

* Instants in and out are timezone-aware; results are UTC. A search for an opening gives up with
  ``ValueError`` after ``SEARCH_HORIZON_DAYS`` days without one (e.g. every day a holiday).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
SEARCH_HORIZON_DAYS = 400

_CLOCK_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
_ONE_DAY = timedelta(days=1)

DaySpans = tuple[tuple[int, int], ...]


# --- parsing helpers, shared with orgs/shifts.py -------------------------------------------------


def load_zone(name: object) -> ZoneInfo:
    """The IANA zone called ``name``; ValueError naming it if it does not exist."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"time zone must be an IANA name such as 'Europe/London', got {name!r}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name such as 'Asia/Tehran')") from exc


def parse_clock_time(value: object, *, allow_end_of_day: bool) -> int:
    """Minutes after midnight for ``"HH:MM"``; ``"24:00"`` only where an end of day makes sense."""
    if isinstance(value, str):
        match = _CLOCK_TIME.match(value.strip())
        if match:
            hours, minutes = int(match.group(1)), int(match.group(2))
            if hours == 24 and minutes == 0 and allow_end_of_day:
                return MINUTES_PER_DAY
            if hours <= 23 and minutes <= 59:
                return hours * 60 + minutes
    allowed = "'HH:MM' between 00:00 and 24:00" if allow_end_of_day else "'HH:MM' between 00:00 and 23:59"
    raise ValueError(f"{value!r} is not a time {allowed}")


def parse_day_key(value: object) -> int:
    """Weekday number (Monday = 0) for a day key such as ``"mon"``."""
    if isinstance(value, str) and value.strip().lower() in DAY_KEYS:
        return DAY_KEYS.index(value.strip().lower())
    raise ValueError(f"{value!r} is not a day key (use one of {', '.join(DAY_KEYS)})")


def parse_holidays(holidays: object) -> frozenset[date]:
    """ISO dates (``"2026-12-25"``) as a set; ValueError naming the first bad entry."""
    if holidays is None:
        return frozenset()
    if isinstance(holidays, str | bytes) or not isinstance(holidays, Sequence | set | frozenset):
        raise ValueError(f"holidays must be a list of ISO dates such as '2026-12-25', got {holidays!r}")
    parsed: set[date] = set()
    for index, value in enumerate(holidays):
        if isinstance(value, date) and not isinstance(value, datetime):
            parsed.add(value)
            continue
        try:
            if not isinstance(value, str):
                raise TypeError
            parsed.add(date.fromisoformat(value.strip()))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"holidays[{index}]: {value!r} is not an ISO date such as '2026-12-25'") from exc
    return frozenset(parsed)


def require_aware(value: datetime, name: str) -> datetime:
    """``value`` in UTC; naive datetimes are refused because their zone would be a guess."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def local_to_utc(local: datetime, zone: tzinfo) -> datetime:
    """The first instant at which the wall clock in ``zone`` shows ``local`` (naive) or later.

    An existing or repeated time gives its (first) occurrence; a time skipped by a spring-forward
    jump gives the instant of the jump.
    """
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    # In a gap, fold=0 and fold=1 land on either side of the jump (PEP 495); the jump is between them.
    other = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    before, after = min(first, other), max(first, other)
    one_second = timedelta(seconds=1)
    while after - before > one_second:
        middle = (before + (after - before) / 2).replace(microsecond=0)
        if middle.astimezone(zone).replace(tzinfo=None) >= local:
            after = middle
        else:
            before = middle
    return after


def _merge(spans: list[tuple[int, int]]) -> DaySpans:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _parse_interval(day_key: str, index: int, interval: object) -> tuple[int, int]:
    where = f"weekly[{day_key!r}][{index}]"
    if isinstance(interval, str | bytes) or not isinstance(interval, Sequence) or len(interval) != 2:
        raise ValueError(f"{where}: expected [start, end] such as ['09:00', '17:00'], got {interval!r}")
    try:
        start = parse_clock_time(interval[0], allow_end_of_day=False)
    except ValueError as exc:
        raise ValueError(f"{where}: start {exc}") from None
    try:
        end = parse_clock_time(interval[1], allow_end_of_day=True)
    except ValueError as exc:
        raise ValueError(f"{where}: end {exc}") from None
    if end <= start:
        end += MINUTES_PER_DAY
    return start, end


def parse_weekly(weekly: object) -> tuple[DaySpans, ...]:
    """Per weekday, the open minutes of that calendar day, overnight spill of the day before included."""
    if not isinstance(weekly, Mapping):
        raise ValueError(f"weekly must be a mapping of day key to intervals, got {type(weekly).__name__}")
    if not weekly:
        return tuple(((0, MINUTES_PER_DAY),) for _ in DAY_KEYS)
    own: list[list[tuple[int, int]]] = [[] for _ in DAY_KEYS]
    seen: dict[int, object] = {}
    for key, intervals in weekly.items():
        try:
            weekday = parse_day_key(key)
        except ValueError as exc:
            raise ValueError(f"weekly: {exc}") from None
        if weekday in seen:
            raise ValueError(f"weekly: day {key!r} is given twice (also as {seen[weekday]!r})")
        seen[weekday] = key
        if intervals is None:
            continue
        if isinstance(intervals, str | bytes) or not isinstance(intervals, Sequence):
            raise ValueError(f"weekly[{key!r}]: expected a list of [start, end] intervals, got {intervals!r}")
        for index, interval in enumerate(intervals):
            own[weekday].append(_parse_interval(str(key), index, interval))
    per_day: list[list[tuple[int, int]]] = [[] for _ in DAY_KEYS]
    for weekday, spans in enumerate(own):
        for start, end in spans:
            per_day[weekday].append((start, min(end, MINUTES_PER_DAY)))
            if end > MINUTES_PER_DAY:
                per_day[(weekday + 1) % 7].append((0, end - MINUTES_PER_DAY))
    template = tuple(_merge(spans) for spans in per_day)
    if not any(template):
        raise ValueError("weekly: no day has open hours; use an empty mapping {} for open 24/7")
    return template


# --- the calendar --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Open hours of one location: build with ``from_config`` or ``always_open``."""

    zone: ZoneInfo
    # Index = weekday; minutes [start, end) within that local calendar day, merged and sorted.
    day_spans: tuple[DaySpans, ...]
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_config(
        cls, weekly: Mapping[str, object], holidays: Sequence[str] | None, tz: str
    ) -> BusinessCalendar:
        """Validate the stored schedule; ValueError names the bad day, interval, date or zone."""
        return cls(zone=load_zone(tz), day_spans=parse_weekly(weekly), holidays=parse_holidays(holidays))

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        return cls(zone=ZoneInfo("UTC"), day_spans=parse_weekly({}))

    @property
    def tz(self) -> str:
        return self.zone.key

    # --- queries ---------------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        instant = require_aware(at, "at")
        for start, end in self._open_spans(instant, until=instant):
            if start > instant:
                break
            if start <= instant < end:
                return True
        return False

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the next opening (UTC)."""
        instant = require_aware(at, "at")
        for start, _end in self._open_spans(instant):
            return max(start, instant)
        raise AssertionError("unreachable: _open_spans yields or raises")

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant when ``minutes`` of open time have passed since ``start`` (UTC).

        A closed ``start`` starts the clock at the next opening; an exact fit ends at a closing time
        rather than at the next opening.
        """
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes):
            raise ValueError(f"minutes must be a finite number, got {minutes!r}")
        if minutes < 0:
            raise ValueError(f"minutes must not be negative, got {minutes!r}")
        try:
            duration = timedelta(minutes=minutes)
        except OverflowError as exc:
            raise ValueError(f"minutes is too large: {minutes!r}") from exc
        return self.add_business_time(start, duration)

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        instant = require_aware(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        remaining = duration
        # Whole open spans are consumed at once, so a long duration costs one step per open day.
        for span_start, span_end in self._open_spans(instant):
            begin = max(span_start, instant)
            available = span_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable: _open_spans yields or raises")

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        start, end = require_aware(a, "a"), require_aware(b, "b")
        total = timedelta(0)
        if end <= start:
            return total
        for span_start, span_end in self._open_spans(start, until=end):
            if span_start >= end:
                break
            total += min(span_end, end) - max(span_start, start)
        return total

    def business_seconds_between(self, a: datetime, b: datetime) -> float:
        """Open seconds in ``[a, b)``; 0.0 when ``b <= a``."""
        return self.business_time_between(a, b).total_seconds()

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Merged open spans within ``[start, end)`` in UTC, for display and debugging."""
        lower, upper = require_aware(start, "start"), require_aware(end, "end")
        merged: list[tuple[datetime, datetime]] = []
        if upper <= lower:
            return merged
        for span_start, span_end in self._open_spans(lower, until=upper):
            if span_start >= upper:
                break
            clipped = (max(span_start, lower), min(span_end, upper))
            if merged and clipped[0] <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], clipped[1]))
            else:
                merged.append(clipped)
        return merged

    def resume_due(self, original_due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
        """The due time after the SLA clock was paused (pending on the customer) and resumed.

        The business time that remained between the pause and the original due time is counted again
        from the resume, so time spent pending never counts against the team. A target already due at
        the pause stays where it was: resuming must not turn a breach back into a promise.
        """
        due = require_aware(original_due, "original_due")
        paused = require_aware(paused_at, "paused_at")
        resumed = require_aware(resumed_at, "resumed_at")
        if resumed < paused:
            raise ValueError(f"resumed_at {resumed.isoformat()} is before paused_at {paused.isoformat()}")
        if due <= paused:
            return due
        return self.add_business_time(resumed, self.business_time_between(paused, due))

    # --- the one place that turns the weekly template into instants ------------------------------

    def _spans_on(self, day: date) -> DaySpans:
        if day in self.holidays:
            return ()
        return self.day_spans[day.weekday()]

    def _open_spans(
        self, start: datetime, until: datetime | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """UTC open spans in time order, beginning with the first that ends after ``start``.

        Spans never overlap but may touch (at midnight, or where a DST jump swallowed a closed gap).
        With ``until`` the scan stops after that instant's local day; without it, it raises ValueError
        once ``SEARCH_HORIZON_DAYS`` consecutive days bring no opening.
        """
        # The day before too: a fall-back at midnight can put an instant's local date behind its spans.
        day = start.astimezone(self.zone).date() - _ONE_DAY
        last_day = until.astimezone(self.zone).date() + _ONE_DAY if until is not None else None
        days_without_opening = 0
        while last_day is None or day <= last_day:
            midnight = datetime.combine(day, time())
            opened = False
            for start_minute, end_minute in self._spans_on(day):
                span_start = local_to_utc(midnight + timedelta(minutes=start_minute), self.zone)
                span_end = local_to_utc(midnight + timedelta(minutes=end_minute), self.zone)
                if span_end <= start or span_end <= span_start:
                    continue
                opened = True
                yield span_start, span_end
            days_without_opening = 0 if opened else days_without_opening + 1
            if last_day is None and days_without_opening > SEARCH_HORIZON_DAYS:
                raise ValueError(
                    f"no business hours within {SEARCH_HORIZON_DAYS} days after {start.isoformat()} "
                    f"in {self.tz}; check the weekly schedule and holidays"
                )
            day += _ONE_DAY
