"""Departments and agencies as the settings pages show and change them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class DepartmentRow(BaseModel):
    key: str
    name: str
    is_default: bool
    assignment: str
    agency: str | None  # the agency's key; None = in-house
    agency_name: str | None
    spokesperson: bool
    members: int


class DepartmentIn(BaseModel):
    """A department as a form or the API gives it (checked as `config apply` checks it)."""

    key: str = Field(max_length=64)
    name: str = Field(max_length=200)
    default: bool = False
    assignment: Literal["least_loaded", "round_robin", "manual"] = "least_loaded"
    agency: str | None = None
    spokesperson: bool = False


class AgencyRow(BaseModel):
    key: str
    name: str
    contract: dict[str, Any]
    departments: list[str]
