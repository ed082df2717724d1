"""SLA pause, per-policy warning, business first response, stage overrides

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sla_paused_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("sla_paused_next_due", relaydesk.models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("first_response_business_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("warn_before_minutes", sa.Integer(), server_default="15", nullable=False)
        )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage_departments", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("stage_departments")
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_column("warn_before_minutes")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("first_response_business_seconds")
        batch_op.drop_column("sla_paused_next_due")
        batch_op.drop_column("sla_paused_at")
