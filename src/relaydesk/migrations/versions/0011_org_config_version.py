"""organizations.config_version: the stamp per-organisation configuration snapshots are keyed by

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: rebuilding `organizations` on SQLite would cascade-delete everything.
    op.add_column("organizations", sa.Column("config_version", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("organizations", "config_version")
