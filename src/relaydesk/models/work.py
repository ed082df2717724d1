"""The durable work queue of the pipeline: one row per accepted message until it is processed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
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
