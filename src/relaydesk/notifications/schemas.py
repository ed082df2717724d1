"""Response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class NotificationOut(BaseModel):
    id: int
    kind: str
    text: str
    conversation_id: int | None
    read: bool
    at: datetime
