"""A person's editable values, checked exactly as `config apply` checks an `agents:` entry.

Pure (no database): the same pydantic model as the file gives the same messages, and the shifts
are checked row by row with orgs/shifts.py so a form can say which row is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from relaydesk.config.schemas import AgentConfig, ShiftConfig
from relaydesk.core.errors import Refused
from relaydesk.orgs.shifts import split_time_off, validate_shifts

if TYPE_CHECKING:
    from relaydesk.models import User

_ROW = re.compile(r"^shift (\d+): ")


@dataclass(frozen=True)
class Values:
    email: str
    name: str
    handle: str
    role: str
    departments: list[str]
    location: str | None
    languages: list[str]
    skills: list[str]
    timezone: str
    shifts: list[dict[str, Any]]
    time_off: list[str]
    max_concurrent: int
    agency: str | None
    active: bool = True

    def filled(self) -> set[str]:
        """The fields a new person's form gave (for who may set what)."""
        names = {
            "email": self.email,
            "name": self.name,
            "handle": self.handle,
            "role": self.role,
            "departments": self.departments,
            "location": self.location,
            "languages": self.languages,
            "skills": self.skills,
            "timezone": self.timezone,
            "shifts": self.shifts or self.time_off,
            "max_concurrent": True,
            "agency": self.agency,
            "active": True,
        }
        return {name for name, value in names.items() if value not in (None, "", [])}

    def merged(self, given: Mapping[str, Any]) -> Values:
        """These values with a change laid over them (None leaves a field; "" clears a key)."""
        changes: dict[str, Any] = {}
        for name, value in given.items():
            if value is None:
                continue
            if name in ("location", "agency"):
                changes[name] = value.strip() or None
            elif name == "shifts":
                changes[name] = [s.model_dump() if hasattr(s, "model_dump") else dict(s) for s in value]
            elif name == "role":
                changes[name] = str(getattr(value, "value", value))
            else:
                changes[name] = value
        return replace(self, **changes)

    def differs(self, other: Values, name: str) -> bool:
        if name in ("departments", "languages", "skills", "time_off"):
            return sorted(set(getattr(self, name))) != sorted(set(getattr(other, name)))
        if name == "shifts":
            return (self.shifts, sorted(set(self.time_off))) != (other.shifts, sorted(set(other.time_off)))
        return bool(getattr(self, name) != getattr(other, name))


def from_row(row: User, keys: tuple[list[str], str | None, str | None]) -> Values:
    departments, location, agency = keys
    working, days_off = split_time_off(list(row.shifts or []))
    return Values(
        email=row.email,
        name=row.name,
        handle=row.handle,
        role=row.role,
        departments=departments,
        location=location,
        languages=list(row.languages or []),
        skills=list(row.skills or []),
        timezone=row.timezone,
        shifts=[dict(s) for s in working],
        time_off=sorted(set(days_off)),
        max_concurrent=row.max_concurrent,
        agency=agency,
        active=row.active,
    )


def _field_of(loc: tuple[int | str, ...]) -> str:
    return str(loc[0]) if loc else "person"


def shift_errors(shifts: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Problems by row (0-based) of the working shifts; {} when every row is valid."""
    rows: dict[int, list[str]] = {}
    for message in validate_shifts(shifts):
        found = _ROW.match(message)
        index = int(found.group(1)) - 1 if found else 0
        rows.setdefault(index, []).append(message[found.end() :] if found else message)
    if rows:
        return rows
    for index, shift in enumerate(shifts):
        try:
            ShiftConfig(**shift)
        except ValidationError as exc:
            rows[index] = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
    return rows


def checked(values: Values) -> Values:
    """The values as they will be stored, or Refused with every problem by field."""
    errors: dict[str, str] = {}
    for index, problems in shift_errors(values.shifts).items():
        errors[f"shifts.{index + 1}"] = f"shift {index + 1}: " + "; ".join(problems)
    days: list[str] = []
    for text in values.time_off:
        try:
            days.append(date.fromisoformat(text.strip()).isoformat())
        except ValueError:
            errors["time_off"] = f"time_off: {text!r} is not a date (YYYY-MM-DD)"
    try:
        # An empty handle is left out, so it is derived from the email as in the file.
        handle = {"handle": values.handle} if values.handle.strip() else {}
        agent = AgentConfig(
            email=values.email,
            name=values.name.strip(),
            **handle,
            role=values.role,
            departments=list(values.departments),
            languages=list(values.languages),
            skills=[s.strip() for s in values.skills if s.strip()],
            timezone=values.timezone or None,
            max_concurrent=values.max_concurrent,
            agency=values.agency,
            location=values.location,
            active=values.active,
        )
    except ValidationError as exc:
        for error in exc.errors():
            name = _field_of(error["loc"])
            errors.setdefault(name, f"{name}: {str(error['msg']).removeprefix('Value error, ')}")
        agent = None
    if errors or agent is None:
        raise Refused("; ".join(errors.values()), errors=field_errors(errors))
    shifts = [ShiftConfig(**s).model_dump(mode="json") for s in values.shifts]
    return replace(
        values,
        email=agent.email,
        name=agent.name,
        handle=agent.handle,
        role=agent.role.value,
        departments=sorted(set(agent.departments)),
        languages=list(dict.fromkeys(agent.languages)),
        skills=list(dict.fromkeys(agent.skills)),
        timezone=agent.timezone or values.timezone,
        shifts=shifts,
        time_off=sorted(set(days)),
        max_concurrent=agent.max_concurrent,
    )


def field_errors(by_field: dict[str, str]) -> list[dict[str, str]]:
    """The API's shape for problems by field (`errors: [{field, message}]`, as every 422 has)."""
    return [{"field": field, "message": message} for field, message in by_field.items()]


def errors_by_field(extra: dict[str, object]) -> dict[str, str]:
    """Back from that shape, for a page that shows each problem beside its field."""
    found = extra.get("errors")
    if not isinstance(found, list):
        return {}
    return {str(e["field"]): str(e["message"]) for e in found if isinstance(e, dict) and "field" in e}
