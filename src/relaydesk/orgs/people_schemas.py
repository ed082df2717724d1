"""Bodies of the people settings, shared by the pages and /api/v1/people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from relaydesk.auth.schemas import TokenInfo
from relaydesk.core.enums import Role


class ShiftIn(BaseModel):
    days: list[str] = Field(max_length=7)
    start: str = Field(max_length=5)
    end: str = Field(max_length=5)


class PersonIn(BaseModel):
    """A new person (an invite); what is left out takes the organisation's defaults."""

    email: str = Field(max_length=254)
    name: str = Field(max_length=200)
    handle: str = Field(default="", max_length=64)
    role: Role = Role.AGENT
    departments: list[str] = Field(default_factory=list, max_length=100)
    location: str | None = Field(default=None, max_length=64)
    languages: list[str] = Field(default_factory=list, max_length=50)
    skills: list[str] = Field(default_factory=list, max_length=100)
    timezone: str | None = Field(default=None, max_length=64)
    shifts: list[ShiftIn] = Field(default_factory=list, max_length=50)
    time_off: list[str] = Field(default_factory=list, max_length=400)
    max_concurrent: int = Field(default=8, ge=0, le=1000)
    agency: str | None = Field(default=None, max_length=64)


class PersonPatch(BaseModel):
    """A change: only the fields given change (`location`/`agency` "" clears them)."""

    email: str | None = Field(default=None, max_length=254)
    name: str | None = Field(default=None, max_length=200)
    handle: str | None = Field(default=None, max_length=64)
    role: Role | None = None
    departments: list[str] | None = Field(default=None, max_length=100)
    location: str | None = Field(default=None, max_length=64)
    languages: list[str] | None = Field(default=None, max_length=50)
    skills: list[str] | None = Field(default=None, max_length=100)
    timezone: str | None = Field(default=None, max_length=64)
    shifts: list[ShiftIn] | None = Field(default=None, max_length=50)
    time_off: list[str] | None = Field(default=None, max_length=400)
    max_concurrent: int | None = Field(default=None, ge=0, le=1000)
    agency: str | None = Field(default=None, max_length=64)
    active: bool | None = None


class PersonOut(BaseModel):
    id: int
    email: str
    handle: str
    name: str
    role: str
    departments: list[str]
    location: str | None
    location_name: str | None
    languages: list[str]
    skills: list[str]
    timezone: str
    shifts: list[dict[str, Any]]
    time_off: list[str]
    max_concurrent: int
    agency: str | None
    active: bool
    online: bool
    has_password: bool
    open_conversations: int
    on_shift: bool | None  # None: the shifts could not be read
    # What the caller may change on this person (the form's enabled fields).
    editable: list[str] = Field(default_factory=list)


class PeoplePage(BaseModel):
    people: list[PersonOut]
    total: int
    offset: int
    limit: int


class InviteOut(BaseModel):
    person: PersonOut
    # The one-time link's path (/welcome/<token>): shown once, to pass on to the person.
    welcome_path: str
    welcome_expires_at: datetime


class PersonTokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class PersonTokens(BaseModel):
    tokens: list[TokenInfo]
