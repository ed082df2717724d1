"""The person form: what it shows, and what a submitted one says, as the service's bodies.

Shifts are rows of days + start + end; a row left blank is no shift. Days off are dates, one per
line (or separated by commas or spaces). Lists (languages, skills) are comma-separated. A part of
the form is only read when it was shown (`<part>_shown`): a disabled or absent part changes
nothing, and unticking every department still says "none".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from relaydesk.orgs.people_schemas import PersonOut
from relaydesk.orgs.people_values import shift_errors

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_ROWS = 20
_SPLIT = re.compile(r"[\s,،]+")


@dataclass
class ShiftRow:
    days: list[str] = field(default_factory=list)
    start: str = ""
    end: str = ""

    @property
    def blank(self) -> bool:
        return not self.days and not self.start and not self.end


@dataclass
class PersonForm:
    """What the form holds: the stored person, or what someone typed (kept after a mistake)."""

    email: str = ""
    name: str = ""
    handle: str = ""
    role: str = "agent"
    departments: list[str] = field(default_factory=list)
    location: str = ""
    languages: str = ""
    skills: str = ""
    timezone: str = ""
    shifts: list[ShiftRow] = field(default_factory=list)
    time_off: str = ""
    max_concurrent: str = "8"
    agency: str = ""
    shown: set[str] = field(default_factory=set)

    def rows(self) -> list[ShiftRow]:
        """The rows to show: the shifts and two empty rows to add more (no script needed)."""
        return [*self.shifts, ShiftRow(), ShiftRow()][:MAX_ROWS]


def from_person(person: PersonOut) -> PersonForm:
    return PersonForm(
        email=person.email,
        name=person.name,
        handle=person.handle,
        role=person.role,
        departments=list(person.departments),
        location=person.location or "",
        languages=", ".join(person.languages),
        skills=", ".join(person.skills),
        timezone=person.timezone,
        shifts=[
            ShiftRow(list(s.get("days", [])), str(s.get("start", "")), str(s.get("end", "")))
            for s in person.shifts
        ],
        time_off="\n".join(person.time_off),
        max_concurrent=str(person.max_concurrent),
        agency=person.agency or "",
    )


def _text(form: FormData, name: str, most: int = 4000) -> str:
    value = form.get(name, "")
    return value.strip()[:most] if isinstance(value, str) else ""


def _many(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def listed(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text) if part]


def read(form: FormData) -> PersonForm:
    """The submitted form as typed."""
    rows: list[ShiftRow] = []
    for index in range(MAX_ROWS):
        row = ShiftRow(
            days=[d for d in _many(form, f"shift-{index}-days") if d in DAYS],
            start=_text(form, f"shift-{index}-start", 5),
            end=_text(form, f"shift-{index}-end", 5),
        )
        if not row.blank:
            rows.append(row)
    return PersonForm(
        email=_text(form, "email", 254),
        name=_text(form, "name", 200),
        handle=_text(form, "handle", 64),
        role=_text(form, "role", 16),
        departments=_many(form, "departments"),
        location=_text(form, "location", 64),
        languages=_text(form, "languages", 500),
        skills=_text(form, "skills", 2000),
        timezone=_text(form, "timezone", 64),
        shifts=rows,
        time_off=_text(form, "time_off", 8000),
        max_concurrent=_text(form, "max_concurrent", 6),
        agency=_text(form, "agency", 64),
        shown={name.removesuffix("_shown") for name in form if name.endswith("_shown")},
    )


def row_errors(typed: PersonForm) -> dict[str, str]:
    """Each bad shift row's problem, keyed as the service keys it ("shifts.<row from 1>")."""
    shifts = [{"days": r.days, "start": r.start, "end": r.end} for r in typed.shifts]
    return {f"shifts.{index + 1}": "; ".join(problems) for index, problems in shift_errors(shifts).items()}


def capacity(typed: PersonForm) -> int | None:
    try:
        return int(typed.max_concurrent)
    except ValueError:
        return None


def values(typed: PersonForm) -> dict[str, Any]:
    """The fields of the parts the form showed, as the service's body takes them."""
    out: dict[str, Any] = {}
    plain = {"email", "name", "handle", "role", "location", "timezone", "agency"}
    for name in plain & typed.shown:
        out[name] = getattr(typed, name)
    if "departments" in typed.shown:
        out["departments"] = typed.departments
    if "languages" in typed.shown:
        out["languages"] = [code.lower() for code in listed(typed.languages)]
    if "skills" in typed.shown:
        out["skills"] = [s.strip() for s in typed.skills.split(",") if s.strip()]
    if "shifts" in typed.shown:
        out["shifts"] = [{"days": r.days, "start": r.start, "end": r.end} for r in typed.shifts]
        out["time_off"] = listed(typed.time_off)
    if "max_concurrent" in typed.shown:
        out["max_concurrent"] = capacity(typed)
    return out
