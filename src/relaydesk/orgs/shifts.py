"""Agent shifts: is this person working at this instant?

A shift is ``{"days": ["mon", "tue"], "start": "22:00", "end": "06:00"}`` in the agent's time zone.
Rules:

* A shift whose end is at or before its start runs past midnight and belongs to the day it starts on:
  a Monday 22:00-06:00 shift covers Tuesday 03:00, and does not cover Monday 03:00. ``"24:00"`` is
  accepted as an end; equal start and end means a 24-hour shift.
* Shifts are half-open: on shift at the start, off at the end.
* A holiday (ISO date, local to the agent's zone) cancels the shifts that START on it; the overnight
  part of a shift that started the day before still counts.
* An empty list means no restriction: always on shift (holidays cancel listed shifts only).
* Personal time off is an entry ``{"time_off": ["2026-12-24", ...]}`` in the same list (so it lives
  in the agent's existing ``shifts`` JSON, no extra column). Its dates are local to the agent's zone
  and act like holidays on listed shifts; an agent without listed shifts (always on) is off for the
  whole local day. Unlike location holidays it never leaves an always-on agent working: a day off is
  a day off.
* Local times become instants with the same DST rule as the business-hours clock
  (``relaydesk.sla.clock.local_to_utc``): a start skipped by a spring-forward jump begins at the jump,
  a repeated time means its first occurrence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from relaydesk.sla.clock import (
    MINUTES_PER_DAY,
    load_zone,
    local_to_utc,
    parse_clock_time,
    parse_day_key,
    parse_holidays,
    require_aware,
)

SHIFT_FIELDS = frozenset({"days", "start", "end"})
TIME_OFF_FIELD = "time_off"


@dataclass(frozen=True, slots=True)
class Shift:
    weekdays: frozenset[int]  # the days it starts on, Monday = 0
    start_minute: int
    end_minute: int  # past MINUTES_PER_DAY when the shift runs over midnight


@dataclass(frozen=True, slots=True)
class ShiftSchedule:
    """Parsed, validated shifts of one agent; parse once and ask many times when routing."""

    shifts: tuple[Shift, ...]
    zone: ZoneInfo
    holidays: frozenset[date] = frozenset()
    time_off: frozenset[date] = frozenset()

    @classmethod
    def from_config(
        cls, shifts: Sequence[Mapping[str, object]], tz: str, holidays: Sequence[str] | None = None
    ) -> ShiftSchedule:
        problems = validate_shifts(shifts)
        if problems:
            raise ValueError("invalid shifts: " + "; ".join(problems))
        working, time_off = split_time_off(shifts or ())
        return cls(
            shifts=tuple(_parse_shift(shift) for shift in working),
            zone=load_zone(tz),
            holidays=parse_holidays(holidays),
            time_off=parse_holidays(time_off),
        )

    def is_on_shift(self, at: datetime) -> bool:
        instant = require_aware(at, "at")
        local_day = instant.astimezone(self.zone).date()
        if not self.shifts:
            return local_day not in self.time_off
        days_off = self.holidays | self.time_off
        # A shift lasts under two days, so it started today, yesterday or (across a DST fold) the day before.
        for days_back in (0, 1, 2):
            day = local_day - timedelta(days=days_back)
            if day in days_off:
                continue
            midnight = datetime.combine(day, time())
            for shift in self.shifts:
                if day.weekday() not in shift.weekdays:
                    continue
                start = local_to_utc(midnight + timedelta(minutes=shift.start_minute), self.zone)
                end = local_to_utc(midnight + timedelta(minutes=shift.end_minute), self.zone)
                if start <= instant < end:
                    return True
        return False


def is_time_off_entry(entry: object) -> bool:
    return isinstance(entry, Mapping) and TIME_OFF_FIELD in entry


def split_time_off(entries: Sequence[Mapping[str, object]]) -> tuple[list[Mapping[str, object]], list[str]]:
    """The working shifts and the personal days off (ISO strings) of a stored ``shifts`` list."""
    working: list[Mapping[str, object]] = []
    days: list[str] = []
    for entry in entries:
        if is_time_off_entry(entry):
            days.extend(str(day) for day in cast(Sequence[object], entry[TIME_OFF_FIELD]))
        else:
            working.append(entry)
    return working, days


def with_time_off(shifts: Sequence[Mapping[str, object]], time_off: Sequence[str]) -> list[dict[str, object]]:
    """The stored form: shifts, then one time-off entry when there are days off."""
    stored: list[dict[str, object]] = [dict(shift) for shift in shifts]
    if time_off:
        stored.append({TIME_OFF_FIELD: sorted(set(time_off))})
    return stored


def _parse_shift(shift: Mapping[str, object]) -> Shift:
    days = cast(Sequence[object], shift["days"])
    start = parse_clock_time(shift["start"], allow_end_of_day=False)
    end = parse_clock_time(shift["end"], allow_end_of_day=True)
    if end <= start:
        end += MINUTES_PER_DAY
    return Shift(weekdays=frozenset(parse_day_key(day) for day in days), start_minute=start, end_minute=end)


def validate_shifts(shifts: object) -> list[str]:
    """Every problem with a shifts list, as sentences for the config validator; [] when valid."""
    if shifts is None:
        return []
    if isinstance(shifts, str | bytes) or not isinstance(shifts, Sequence):
        return [f"shifts must be a list of {{days, start, end}} objects, got {type(shifts).__name__}"]
    problems: list[str] = []
    for number, shift in enumerate(shifts, start=1):
        where = f"shift {number}"
        if not isinstance(shift, Mapping):
            problems.append(f"{where}: expected an object with days, start and end, got {shift!r}")
            continue
        if is_time_off_entry(shift):
            problems.extend(_time_off_problems(where, shift))
            continue
        for field in sorted(str(key) for key in shift if key not in SHIFT_FIELDS):
            problems.append(f"{where}: unknown field {field!r} (expected days, start, end)")
        problems.extend(_day_problems(where, shift.get("days")))
        for field, allow_end_of_day in (("start", False), ("end", True)):
            if field not in shift:
                problems.append(f"{where}: {field!r} is missing")
                continue
            try:
                parse_clock_time(shift[field], allow_end_of_day=allow_end_of_day)
            except ValueError as exc:
                problems.append(f"{where}: {field} {exc}")
    return problems


def _time_off_problems(where: str, entry: Mapping[object, object]) -> list[str]:
    problems = [
        f"{where}: unknown field {str(key)!r} next to 'time_off'"
        for key in sorted(str(k) for k in entry)
        if key != TIME_OFF_FIELD
    ]
    try:
        parse_holidays(entry[TIME_OFF_FIELD])
    except ValueError as exc:
        # parse_holidays names the field "holidays"; say "time_off" so the message points at the config.
        problems.append(f"{where}: time_off{str(exc).removeprefix('holidays')}")
    return problems


def _day_problems(where: str, days: object) -> list[str]:
    if days is None:
        return [f"{where}: 'days' is missing"]
    if isinstance(days, str | bytes) or not isinstance(days, Sequence):
        return [f"{where}: 'days' must be a list such as ['mon', 'tue'], got {days!r}"]
    if not days:
        return [f"{where}: 'days' is empty, so the shift never applies"]
    problems: list[str] = []
    for day in days:
        try:
            parse_day_key(day)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    return problems


def is_on_shift(
    shifts: Sequence[Mapping[str, object]], tz: str, at: datetime, holidays: Sequence[str] | None = None
) -> bool:
    """Whether an agent with these shifts in zone ``tz`` works at ``at``; ValueError on a bad config."""
    return ShiftSchedule.from_config(shifts, tz, holidays).is_on_shift(at)
