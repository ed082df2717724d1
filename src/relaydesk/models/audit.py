"""The audit log: every change to an organisation's configuration, who made it and how."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from relaydesk.core.timeutil import utcnow
from relaydesk.models.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_org_id_at", "org_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The person, kept by name too: the entry outlives their account.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(16))  # web, api, apply, cli, demo
    kind: Mapped[str] = mapped_column(String(32))  # routing_rule, agent, account, ...
    key: Mapped[str] = mapped_column(String(300))  # the object's own name in its kind
    action: Mapped[str] = mapped_column(String(16))  # created, updated, deleted
    # Only the fields that changed (all of them for created/deleted); secrets as a marker.
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
