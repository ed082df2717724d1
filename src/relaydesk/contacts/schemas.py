"""API shapes of contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class IdentityOut(BaseModel):
    network: str
    external_user_id: str
    handle: str | None


class ContactConversation(BaseModel):
    id: int
    status: str
    network: str
    subject: str
    last_message_at: datetime


class ContactOut(BaseModel):
    id: int
    display_name: str
    attributes: dict[str, Any]
    identities: list[IdentityOut]
    conversations: int = Field(description="conversations of this contact the caller can see")
    merged_into_id: int | None


class ContactDetail(ContactOut):
    recent_conversations: list[ContactConversation]


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class ContactUpdate(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    attributes: dict[str, Any] | None = Field(
        default=None, description="replaces the attributes, e.g. {vip: true, followers: 12000, purchases: 3}"
    )


# The largest id a 64-bit column holds: a larger one overflows in the database (a 500, not a 404).
MAX_ID = 2**63 - 1


class MergeRequest(BaseModel):
    into: int = Field(ge=1, le=MAX_ID, description="the contact that stays; this one points at it afterwards")
