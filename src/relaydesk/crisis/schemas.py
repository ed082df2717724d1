"""What the listening API takes and gives: queries, caught posts, and ingest reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from relaydesk.crisis import listening


class QueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    keywords: list[str] = Field(min_length=1, max_length=listening.MAX_TERMS)
    exclude: list[str] = Field(default_factory=list, max_length=listening.MAX_TERMS)
    languages: list[str] = Field(default_factory=list, max_length=50)
    networks: list[str] = Field(default_factory=list, max_length=20)
    location: str | None = Field(default=None, max_length=64, description="location key (brand, region)")
    active: bool = True


class QueryOut(BaseModel):
    id: int
    name: str
    keywords: list[str]
    exclude: list[str]
    languages: list[str]
    networks: list[str]
    location: str | None
    active: bool
    cursor: dict[str, Any]
    x_search: str = Field(description="the X recent-search query a poller uses for this query")


class ItemOut(BaseModel):
    id: int
    query: str
    network: str
    external_id: str
    author_id: str
    author_handle: str | None
    author_followers: int | None
    text: str
    url: str | None
    language: str | None
    sentiment: str | None
    status: str
    conversation_id: int | None
    posted_at: datetime
    created_at: datetime


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next (older) page; null on the last"
    )


class IngestReport(BaseModel):
    query: str
    received: int
    stored: int
    duplicates: int
    skipped: int
    item_ids: list[int] = Field(description="ids of the items stored by this call")
    reasons: list[str] = Field(description="why posts were skipped (first 50)")
    errors: list[str] = Field(description="posts that could not be read (first 50)")


class ConvertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: int | None = Field(
        default=None, description="the post's network account or a listening account; default: chosen"
    )


class AlertEventOut(BaseModel):
    at: datetime
    kind: str
    detail: str
    actor: str | None = None


class AlertMessageOut(BaseModel):
    id: int
    conversation_id: int
    text: str
    language: str | None = None
    at: datetime


class AlertOut(BaseModel):
    """A crisis alert: a surge (series: all/negative/public) or a trigger (series: its category)."""

    id: int
    kind: str
    series: str
    severity: str
    status: str
    place: str | None = Field(default=None, description="the place's name; none: the whole organisation")
    text: str = Field(description="what was seen, with its numbers")
    numbers: dict[str, Any]
    messages: int
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    minutes_to_acknowledge: float | None = Field(
        default=None, description="from opening to the first acknowledgement"
    )
    acknowledged_by: str | None = None
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    holding_statements: dict[str, str] = Field(default_factory=dict)


class AlertDetailOut(AlertOut):
    timeline: list[AlertEventOut]
    recent: list[AlertMessageOut] = Field(description="the messages behind it the caller may read")
    allowed: list[str] = Field(default_factory=list, description="what the caller may do: handle, statement")


class TopicOut(BaseModel):
    messages: list[int] = Field(description="ids of the messages in this topic")
    terms: dict[str, list[str]] = Field(description="{language: its most telling words}")


class AlertActionIn(BaseModel):
    action: Literal["acknowledge", "escalate", "resolve", "reopen"]
    note: Annotated[str, Field(max_length=2000)] = ""


class HoldingStatementsIn(BaseModel):
    statements: dict[
        Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], Annotated[str, Field(max_length=5000)]
    ] = Field(description="{language: text}; an empty text removes that language")


class PlaybookIn(BaseModel):
    """What happens when an alert opens at a brand (or, without `place`, anywhere)."""

    notify_departments: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    notify_destinations: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=20
    )
    hold_replies: bool = False
    approvers: list[Annotated[str, Field(max_length=65)]] = Field(
        default_factory=lambda: ["manager"], max_length=20
    )
    holding_statements: dict[str, Annotated[str, Field(max_length=5000)]] = Field(default_factory=dict)
    triggers: dict[str, list[Annotated[str, Field(max_length=100)]]] = Field(default_factory=dict)


class PlaybookOut(PlaybookIn):
    place: str | None = None
    place_name: str | None = None
    own: bool = Field(description="false: nothing stored for this place, these are what applies there")
    editable: bool = False
