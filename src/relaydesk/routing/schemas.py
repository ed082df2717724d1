"""Request and response bodies of the routing API (rules and the dry-run)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RuleIn(BaseModel):
    when: dict[str, Any] = Field(default_factory=dict)
    then: dict[str, Any]
    stop: bool = False
    position: int | None = None
    enabled: bool | None = Field(
        None, description="omitted: a new rule is on, an existing one keeps its state"
    )


class RuleOut(BaseModel):
    name: str
    position: int
    when: dict[str, Any]
    then: dict[str, Any]
    stop: bool
    enabled: bool = True
    # Whether the caller may change this rule (a manager: the rules of her departments).
    editable: bool = False


class DryRunIn(BaseModel):
    text: str = Field(max_length=100_000)
    account: str = Field(min_length=1, description="account key the message would arrive on")
    lang: str | None = None
    contact: dict[str, Any] = Field(default_factory=dict, description="vip, followers, purchases, ...")
    open_conversations: int = 0
