"""guidelines.severity: a guideline may stop a reply, warn, or only suggest, whatever its kind

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guidelines") as batch:
        batch.add_column(sa.Column("severity", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guidelines") as batch:
        batch.drop_column("severity")
