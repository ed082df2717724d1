"""Request and response bodies of the organisation API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DepartmentOut(BaseModel):
    id: int
    key: str
    name: str
    is_default: bool
    assignment: str


class AgentOut(BaseModel):
    id: int
    handle: str
    name: str
    role: str
    languages: list[str]
    skills: list[str]
    online: bool
    max_concurrent: int
    departments: list[str]
    agency: str | None


class IntentIn(BaseModel):
    examples: list[str] = Field(min_length=1, max_length=500)
    department: str | None = None


class IntentOut(BaseModel):
    name: str
    department: str | None
    examples: list[str]


class PresenceIn(BaseModel):
    online: bool
