"""The durable work queue of the pipeline: one row per accepted message until it is processed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relaydesk.core.timeutil import utcnow
from relaydesk.models.base import Base


class WorkItem(Base):
    """Pending work for one accepted message, written in the accept's own transaction.

    The row is deleted in the same transaction that stores the processing's results, so a crash
    anywhere leaves either the row (the work is done again, idempotently) or the results, never
    neither. `id` is the arrival order; a conversation's items are processed in that order.
    """

    __tablename__ = "work_items"
    __table_args__ = (
        Index("ix_work_items_ready", "state", "available_at", "id"),
        Index("ix_work_items_conversation", "conversation_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    # pending: waiting or leased; dead: failed `MAX_ATTEMPTS` times, kept for an admin to retry.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StagedEvent(Base):
    """An inbound event as the webhook accepted it, before it is a message (the intake queue).

    Accepting only appends this row (group-committed, `pipeline/staging.py`); a worker turns it
    into the contact, conversation, message and work item (`Pipeline.materialise`). The row stays
    ``done`` with its message id and without its payload for a week, so a network's redelivery is
    still answered ``duplicate`` at the door; one that cannot be stored becomes ``dead`` and is
    kept raw in ``ignored_events`` for an admin.
    """

    __tablename__ = "staged_events"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_staged_events_ready", "state", "id"),
        Index("ix_staged_events_done", "state", "received_at"),
        # An account's last arrival (the account settings page) in one index step, not a scan of
        # a busy account's week of events.
        Index("ix_staged_events_account_received", "account_id", "received_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(256))
    # The parsed event (`channels.base.event_to_json`); emptied once it is a message.
    event: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # pending: not yet a message; done: stored as `message_id`; dead: could not be stored.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
