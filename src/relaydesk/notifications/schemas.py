"""Response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class NotificationOut(BaseModel):
    id: int
    kind: str
    text: str
    conversation_id: int | None
    alert_id: int | None = None
    read: bool
    at: datetime


class DestinationIn(BaseModel):
    """A new destination; the URL is write-only (sealed on the way in, never given back)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, description="what rules call it: notify: ['webhook:<name>']")
    url: str = Field(max_length=4000, description="the Slack-compatible incoming-webhook address")
    active: bool = True


class DestinationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=4000, description="a new address; omit to keep it")
    active: bool | None = None


class DestinationOut(BaseModel):
    name: str
    active: bool
    overridden_by: str | None = Field(
        description="the environment variable that wins over this stored address, when set"
    )
    created_at: datetime
    updated_at: datetime


class EnvDestinationOut(BaseModel):
    """A webhook the server's environment sets: read-only here; only its name is shown."""

    name: str
    variable: str


class DestinationList(BaseModel):
    stored: list[DestinationOut]
    environment: list[EnvDestinationOut]
    capped: bool = Field(description="more stored destinations match than were listed: search to narrow")


class DestinationTestOut(BaseModel):
    name: str
    ok: bool
    status: int | None = Field(description="the receiver's HTTP status, when it answered")
    error: str | None = Field(description="why no answer came (ConnectError, ReadTimeout...)")
    source: str = Field(description="environment or stored: which address was tried")
