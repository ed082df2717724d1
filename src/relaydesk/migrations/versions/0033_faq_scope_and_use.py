"""faq_entries: a brand's (or region's, location's) own entries, and how often each answer was sent

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("faq_entries") as batch:
        batch.add_column(sa.Column("location_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("usage_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(
            "fk_faq_entries_location_id", "locations", ["location_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("faq_entries") as batch:
        batch.drop_constraint("fk_faq_entries_location_id", type_="foreignkey")
        batch.drop_column("last_used_at")
        batch.drop_column("usage_count")
        batch.drop_column("location_id")
