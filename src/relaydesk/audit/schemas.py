"""The audit log as the API returns it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_id: int | None
    via: str
    kind: str
    key: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    # Pass as `before_id` for the next (older) page; None on the last page.
    older: int | None
