"""report_rollups: per-day report counters, what each conversation added; conversations indexed by change

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns as they were when this revision was written (core/rollup_fields.py may grow later).
COUNTERS = (
    "conversations", "with_inbound", "answered", "answered_1h", "answered_24h", "answered_72h",
    "eligible_1h", "eligible_24h", "eligible_72h", "resolved", "positive", "neutral", "negative",
    "sla_first_response_met", "sla_next_response_met", "sla_resolution_met",
    "sla_first_response_decided", "sla_next_response_decided", "sla_resolution_decided",
    "approvals_requested", "approvals_approved", "approvals_rejected", "first_response_sum",
    "resolution_sum",
)  # fmt: skip
FIELDS = (*COUNTERS, *(f"fr_{i}" for i in range(29)))
HISTOGRAM_FIELDS = tuple(f"{prefix}_{i}" for prefix in ("frb", "res", "rev") for i in range(29))


def upgrade() -> None:
    # Empty at first: the refresher folds every conversation on its first pass (no watermark yet).
    op.create_table(
        "report_rollups",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIELDS),
        sa.PrimaryKeyConstraint(
            "org_id",
            "location_id",
            "dimension",
            "day",
            "department_id",
            "value",
            name=op.f("pk_report_rollups"),
        ),
    )
    op.create_table(
        "report_histograms",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in HISTOGRAM_FIELDS),
        sa.PrimaryKeyConstraint(
            "org_id", "location_id", "day", "department_id", name=op.f("pk_report_histograms")
        ),
    )
    op.create_table(
        "report_contributions",
        sa.Column("conversation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("places", sa.JSON(), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("histograms", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_report_contributions")),
    )
    op.create_table(
        "report_refresh",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watermark", relaydesk.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_refresh")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index("ix_conversations_updated", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_updated")
    op.drop_table("report_refresh")
    op.drop_table("report_contributions")
    op.drop_table("report_histograms")
    op.drop_table("report_rollups")
