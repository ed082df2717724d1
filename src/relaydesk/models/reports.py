"""Report rollups: per-day counters the reports add up instead of scanning conversations.

Plain tables, not mapped classes: they are only ever added to and summed in bulk.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Date, Index, Integer, PrimaryKeyConstraint, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from relaydesk.core.rollup_fields import FIELDS, HISTOGRAM_FIELDS
from relaydesk.models.base import Base

# One local day of one organisation, one location (0 = all), one department (0 = none), one
# breakdown value (dimension "all" = the totals): the sum of its conversations' contributions.
report_rollups = Table(
    "report_rollups",
    Base.metadata,
    Column("org_id", Integer, nullable=False),
    Column("location_id", Integer, nullable=False),
    Column("dimension", String(16), nullable=False),
    Column("day", Date, nullable=False),
    Column("department_id", Integer, nullable=False),
    Column("value", String(100), nullable=False),
    *(Column(name, Integer, nullable=False, default=0) for name in FIELDS),
    PrimaryKeyConstraint("org_id", "location_id", "dimension", "day", "department_id", "value"),
    # Ranking a breakdown (a chain's thousand accounts) reads this narrow index only; its top lines
    # are then read in full by value (analytics/report_service.py `_groups`).
    Index(
        "ix_report_rollups_by_value", "org_id", "location_id", "dimension", "value", "day", "conversations"
    ),
)

# The totals' other duration bands, one row per (location, day, department).
report_histograms = Table(
    "report_histograms",
    Base.metadata,
    Column("org_id", Integer, nullable=False),
    Column("location_id", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("department_id", Integer, nullable=False),
    *(Column(name, Integer, nullable=False, default=0) for name in HISTOGRAM_FIELDS),
    PrimaryKeyConstraint("org_id", "location_id", "day", "department_id"),
)

# What each conversation last added, so a change subtracts exactly that before adding anew.
report_contributions = Table(
    "report_contributions",
    Base.metadata,
    Column("conversation_id", Integer, primary_key=True, autoincrement=False),
    Column("org_id", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("location_id", Integer, nullable=False),
    Column("department_id", Integer, nullable=False),
    # The location and the places above it when it was added: taken back from the same rows.
    Column("places", JSON, nullable=False),
    Column("dimensions", JSON, nullable=False),  # [[dimension, value], ...]
    Column("fields", JSON, nullable=False),  # {index: value} of FIELDS, non-zero only
    Column("histograms", JSON, nullable=False),  # {index: value} of HISTOGRAM_FIELDS
)


class ReportRefresh(Base):
    """Where the refresher is: conversations changed since `watermark` still need folding."""

    __tablename__ = "report_refresh"
    id: Mapped[int] = mapped_column(primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column()
