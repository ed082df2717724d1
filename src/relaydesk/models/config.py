"""What an organisation configures: intents, routing rules, SLA policies, guidelines, FAQ, saved replies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relaydesk.core.timeutil import utcnow
from relaydesk.models.base import Base


class Intent(Base):
    __tablename__ = "intents"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    department_key: Mapped[str | None] = mapped_column(String(64))
    examples: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RoutingRule(Base):
    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    stop: Mapped[bool] = mapped_column(Boolean, default=False)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SlaPolicy(Base):
    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    department_key: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    business_hours_key: Mapped[str | None] = mapped_column(String(64))  # None = the location's hours
    around_the_clock: Mapped[bool] = mapped_column(Boolean, default=False)
    # How long before a response is due the assignee is warned; 0 = no warning.
    warn_before_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")


class Guideline(Base):
    __tablename__ = "guidelines"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))  # guidelines/checks.py KINDS
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")
    # block|warn|suggest; None: the kind's default (checks.DEFAULT_SEVERITY).
    severity: Mapped[str | None] = mapped_column(String(8))
    # None: the whole organisation; else a brand (or region, location) and everything under it.
    # Deleted with its place: widened to the whole organisation it would check other brands' replies.
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))


class FaqEntry(Base):
    __tablename__ = "faq_entries"
    __table_args__ = (UniqueConstraint("org_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # draft -> approved -> retired; only a spokesperson department (or an admin) approves, and an
    # edit to an approved entry's text puts it back to draft (guidelines/faq_access.py).
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    # Other phrasings of the question, in any language: a message matching any of them matches.
    variants: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    # {language: answer}; holds the primary `answer` under `language` too.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    # None: offered everywhere; else at this brand (region, location) and every place under it.
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    # How many sent replies carried one of its answers (guidelines/faq_service.count_uses).
    usage_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column()


class CannedResponse(Base):
    """A saved reply agents insert by its shortcut (`/refund`), one text per language.

    With `actions` it is a macro: sending it also changes status, tags, priority or department.
    `department_keys` limits it to those departments' people and conversations (empty: everyone).
    """

    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("org_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    department_keys: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # A macro's other changes when the reply is sent: status, tags, priority, transfer.
    actions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TriageCorrection(Base):
    """An agent's correction of a triage decision: it becomes a training example."""

    __tablename__ = "triage_corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(32))  # lang|sentiment|intent
    old_value: Mapped[str | None] = mapped_column(String(64))
    new_value: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
