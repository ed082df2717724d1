"""Crisis watch: message counts per minute and place, each series' learned baseline, and the
alerts raised from them (crisis/detector.py says how)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from relaydesk.core.timeutil import utcnow
from relaydesk.models.base import Base, UtcDateTime

# Inbound messages of one organisation per minute (UTC) at one place (0 = the whole organisation;
# a message counts at its location and every place above it) and one series ("all", "negative",
# "public"). Added to in bulk, read in windows, deleted after CRISIS_COUNT_DAYS.
crisis_counts = Table(
    "crisis_counts",
    Base.metadata,
    Column("org_id", Integer, nullable=False),
    Column("place_id", Integer, nullable=False),
    Column("series", String(16), nullable=False),
    Column("minute", UtcDateTime(timezone=True), nullable=False),
    Column("count", Integer, nullable=False, default=0),
    PrimaryKeyConstraint("org_id", "place_id", "series", "minute"),
    Index("ix_crisis_counts_org_minute", "org_id", "minute"),
)


class CrisisSeries(Base):
    """One series' baseline (detector.Baseline) and alert state (detector.SeriesState)."""

    __tablename__ = "crisis_series"
    __table_args__ = (PrimaryKeyConstraint("org_id", "place_id", "series"),)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    place_id: Mapped[int] = mapped_column(Integer)
    series: Mapped[str] = mapped_column(String(16))
    baseline: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the start (UTC) of the next hour to learn: hours before it are in the baseline
    learned_until: Mapped[datetime | None] = mapped_column()


class CrisisWatermark(Base):
    """How far the watch has read the messages of an organisation."""

    __tablename__ = "crisis_watermarks"
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    last_message_id: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[datetime | None] = mapped_column()


class CrisisAlert(Base):
    """A potential crisis: a surge in a series at a place, or messages that match a trigger."""

    __tablename__ = "crisis_alerts"
    __table_args__ = (Index("ix_crisis_alerts_org_status", "org_id", "status", "opened_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # surge|trigger
    series: Mapped[str] = mapped_column(String(32))  # surge: all|negative|public; trigger: its category
    severity: Mapped[str] = mapped_column(String(16))  # medium|high
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|acknowledged|resolved
    # surge: observed, expected, minutes, probability, peak_ratio; trigger: the phrases matched
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the newest, at most 50
    messages: Mapped[int] = mapped_column(Integer, default=0)  # how many matched in all (triggers)
    holding_statements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {language: text}
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    escalated_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CrisisAlertEvent(Base):
    """The alert's timeline: raised, grew, notified, acknowledged, escalated, quiet, resolved."""

    __tablename__ = "crisis_alert_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("crisis_alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(Text, default="")


class CrisisPlaybook(Base):
    """What happens when an alert opens, for the whole organisation (place_id None) or one brand
    (its own playbook wins over the organisation's)."""

    __tablename__ = "crisis_playbooks"
    # One per brand and one for the organisation (place_id NULL, which a plain unique constraint
    # would let repeat): two people saving a first playbook at once cannot make two.
    __table_args__ = (
        Index("uq_crisis_playbooks_place", "org_id", "place_id", unique=True),
        Index(
            "uq_crisis_playbooks_org",
            "org_id",
            unique=True,
            sqlite_where=text("place_id IS NULL"),
            postgresql_where=text("place_id IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    # besides owners, admins, PR and the place's managers: these departments' people (legal, HR...)
    notify_departments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # besides the destination named "crisis": these notification destinations (Slack, Teams)
    notify_destinations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # while an alert is open, replies in the conversations under it wait for these approvers
    hold_replies: Mapped[bool] = mapped_column(default=False)
    approvers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    holding_statements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {language: text}
    triggers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {category: [phrases]}
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
