"""report_rollups: an index by breakdown value, so a table with a thousand accounts is ranked on a
narrow index and only its top lines are read in full

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_report_rollups_by_value",
        "report_rollups",
        ["org_id", "location_id", "dimension", "value", "day", "conversations"],
    )


def downgrade() -> None:
    op.drop_index("ix_report_rollups_by_value", table_name="report_rollups")
