"""guidelines.location_id: a guideline for one brand (or a region, or a location) instead of the
whole organisation

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guidelines") as batch:
        batch.add_column(sa.Column("location_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_guidelines_location_id_locations"),
            "locations",
            ["location_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("guidelines") as batch:
        batch.drop_constraint(op.f("fk_guidelines_location_id_locations"), type_="foreignkey")
        batch.drop_column("location_id")
