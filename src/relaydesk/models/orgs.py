"""Organisation tree, departments, agencies, people, channel accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from relaydesk.core.timeutil import utcnow
from relaydesk.models.base import Base


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    default_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    reopen_window_hours: Mapped[int] = mapped_column(Integer, default=72)
    # The org's purchase stage -> department overrides, laid over routing/stage.py's defaults.
    stage_departments: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A fresh random stamp whenever the configuration the pipeline caches changes (models/stamp.py
    # sets it in the same transaction): workers compare it once per batch to reuse their snapshot.
    config_version: Mapped[str | None] = mapped_column(String(32), default=lambda: uuid.uuid4().hex)


class BusinessHours(Base):
    """A weekly schedule plus holidays; the timezone comes from the location using it."""

    __tablename__ = "business_hours"
    __table_args__ = (UniqueConstraint("org_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # {"mon": [["09:00", "17:00"]], ...}; an empty dict means 24/7
    weekly: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[Any]] = mapped_column(JSON, default=list)  # ["2026-12-25", ...]


class Location(Base):
    """A node of the org tree: brand -> region -> location (a franchise chain has 1,000+).

    `path` is the materialised path of ids ("/3/17/204/") so a subtree is one indexed prefix match.
    """

    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("org_id", "key"), Index("ix_locations_org_path", "org_id", "path"))
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # brand|region|location
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(512), default="/")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    business_hours_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_hours.id", ondelete="SET NULL")
    )


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("org_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    assignment: Mapped[str] = mapped_column(String(32), default="least_loaded")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"))
    # Its members (any role) speak for the brand: they approve FAQ entries.
    spokesperson: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Agency(Base):
    """An outside social agency: its own people and its own contract with the brand."""

    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("org_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    contract: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("org_id", "email"), UniqueConstraint("org_id", "handle"))
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    handle: Mapped[str] = mapped_column(String(64))  # for @mentions
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    skills: Mapped[list[Any]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The pages' language and date convention this person chose; None = the browser's language.
    ui_locale: Mapped[str | None] = mapped_column(String(8))
    calendar: Mapped[str] = mapped_column(String(16), default="local", server_default="local")
    # {kind: {"in_app": bool, "email": bool}}; a kind not named reaches them both ways.
    notification_prefs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # [{"days": ["mon", ...], "start": "22:00", "end": "06:00"}]; empty = always on shift
    shifts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    max_concurrent: Mapped[int] = mapped_column(Integer, default=8)
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"))
    # Restricts what the person sees to one subtree of the org (a franchisee, a region lead).
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    last_assigned_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserDepartment(Base):
    __tablename__ = "user_departments"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class UserAccount(Base):
    """Limits a person to these channel accounts (none listed: every account their departments
    and location let them see): the recruiter who answers only the careers page."""

    __tablename__ = "user_accounts"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# The unique index that makes a network identity belong to one account of the whole
# installation: webhooks are routed by it, so a second holder could take over another
# organisation's traffic. NULL external ids (not connected yet) may repeat. An index rather than
# a table constraint: SQLite adds one without rebuilding the table, and rebuilding
# channel_accounts would cascade-delete every message that points at it.
NETWORK_IDENTITY_CONSTRAINT = "uq_channel_accounts_network_external_id"


class ChannelAccount(Base):
    __tablename__ = "channel_accounts"
    __table_args__ = (
        UniqueConstraint("org_id", "key"),
        # Also the index webhooks look accounts up by.
        Index(NETWORK_IDENTITY_CONSTRAINT, "network", "external_id", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(200))
    # The network's id of the account (page id, IG user id, phone-number id, bot id, ...)
    external_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    # Fernet token of a JSON object of secrets: never stored or logged in clear.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
