"""API shapes of the work queue: its counts and the messages set aside for an admin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 2**63 - 1  # the largest id the database holds
MAX_RETRY_IDS = 1000

ItemId = Annotated[int, Field(ge=1, le=MAX_ID)]


class QueueStatsOut(BaseModel):
    pending: int = Field(description="accepted messages waiting for processing (leased ones included)")
    oldest_pending_at: datetime | None = Field(description="when the oldest waiting message was accepted")
    oldest_pending_age_seconds: float = Field(description="its age now; 0 when nothing waits")
    dead: int = Field(description="messages set aside after failing 5 times; retry them here")


class DeadItemOut(BaseModel):
    id: int = Field(description="the work item's id (what retry takes)")
    message_id: int
    conversation_id: int
    attempts: int
    last_error: str | None
    created_at: datetime = Field(description="when the message was accepted")


class DeadItemPage(BaseModel):
    items: list[DeadItemOut]
    next_cursor: str | None = Field(
        default=None, description="pass as `cursor` for the next page; null on the last"
    )
    next_after: int | None = Field(
        default=None, description="deprecated, removed in the next release: use next_cursor"
    )


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[ItemId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_RETRY_IDS,
        description="work item ids to retry; leave out to retry every set-aside item of the organisation",
    )


class RetryOut(BaseModel):
    retried: list[int] = Field(description="ids put back in the queue")
    not_retried: list[int] = Field(
        description="named ids that are not set-aside items of the organisation (nothing done)"
    )
