"""A schedule as the settings form shows it (a line of opening times per day, holidays as dates),
and the form's answer back as the `weekly` and `holidays` of `business_hours:`.

A day's line is its open ranges, "09:00-12:00, 13:00-17:00"; an empty line is a closed day; a
range that ends at or before it starts runs past midnight, as in the file. "Open around the
clock" is the file's empty `weekly`. Each mistake is said next to its own field, in the reader's
language, and what was typed comes back as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from relaydesk.sla.clock import DAY_KEYS, parse_clock_time
from relaydesk.web.i18n import _

_SPLIT_RANGES = re.compile(r"[,;\n]+")
_SPLIT_DATES = re.compile(r"[\s,;]+")
_DASH = re.compile(r"\s*[-–—]\s*")


@dataclass
class HoursForm:
    always: bool = False
    days: dict[str, str] = field(default_factory=lambda: dict.fromkeys(DAY_KEYS, ""))
    holidays: str = ""  # one date a line


def to_form(weekly: Mapping[str, Any] | None, holidays: list[str] | None) -> HoursForm:
    form = HoursForm(always=not weekly, holidays="\n".join(holidays or []))
    for day, spans in (weekly or {}).items():
        if day in form.days and isinstance(spans, list):
            form.days[day] = ", ".join(f"{s[0]}-{s[1]}" for s in spans if isinstance(s, list | tuple))
    return form


def day_names() -> dict[str, str]:
    return {
        "mon": _("Monday"),
        "tue": _("Tuesday"),
        "wed": _("Wednesday"),
        "thu": _("Thursday"),
        "fri": _("Friday"),
        "sat": _("Saturday"),
        "sun": _("Sunday"),
    }


def _ranges(text: str) -> tuple[list[list[str]], str | None]:
    spans: list[list[str]] = []
    for part in _SPLIT_RANGES.split(text):
        part = part.strip()
        if not part:
            continue
        pieces = _DASH.split(part)
        if len(pieces) != 2:
            return [], _("Write each range as 09:00-17:00, ranges separated by commas.")
        start, end = pieces[0].strip(), pieces[1].strip()
        try:
            parse_clock_time(start, allow_end_of_day=False)
            parse_clock_time(end, allow_end_of_day=True)
        except ValueError:
            return [], _("%(range)s is not a range of times like 09:00-17:00.", range=part)
        spans.append([_padded(start), _padded(end)])
    return spans, None


def _padded(value: str) -> str:
    hours, minutes = value.split(":")
    return f"{int(hours):02d}:{minutes}"


def from_answer(
    field_of: Callable[[str], str],
) -> tuple[HoursForm, dict[str, Any], list[str], dict[str, str]]:
    """The form as typed, `weekly`, `holidays`, and the problems by field name ("" = none)."""
    form = HoursForm(
        always=field_of("always") == "1",
        days={day: field_of(f"day_{day}").strip()[:200] for day in DAY_KEYS},
        holidays=field_of("holidays").strip()[:5000],
    )
    problems: dict[str, str] = {}
    weekly: dict[str, Any] = {}
    if not form.always:
        for day in DAY_KEYS:
            spans, problem = _ranges(form.days[day])
            if problem:
                problems[f"day_{day}"] = problem
            elif spans:
                weekly[day] = spans
        if not weekly and not problems:
            problems["always"] = _(
                "Every day is closed: give at least one day its opening times, or tick “open around the clock”."
            )
    holidays: list[str] = []
    for token in _SPLIT_DATES.split(form.holidays):
        if not token:
            continue
        try:
            holidays.append(date.fromisoformat(token).isoformat())
        except ValueError:
            problems["holidays"] = _("%(value)s is not a date like 2026-12-25.", value=token[:40])
            break
    return form, weekly, sorted(set(holidays)), problems


def summary(weekly: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(day name, its ranges or "closed") for reading a schedule at a glance."""
    names = day_names()
    if not weekly:
        return [(_("Every day"), _("open around the clock"))]
    out = []
    for day in DAY_KEYS:
        spans = weekly.get(day) or []
        text = ", ".join(f"{s[0]}–{s[1]}" for s in spans if isinstance(s, list | tuple))
        out.append((names[day], text or _("closed")))
    return out
