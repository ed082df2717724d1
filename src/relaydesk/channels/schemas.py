"""What the channels API answers: webhook events kept raw, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class IgnoredEventOut(BaseModel):
    id: int
    account_id: int | None
    network: str
    kind: str
    reason: str
    raw: Any = Field(description="the event's own part of the delivery, as the network sent it")
    received_at: datetime


class IgnoredEventPage(BaseModel):
    items: list[IgnoredEventOut]
    next_before: int | None = Field(default=None, description="pass as ?before= for older events")
