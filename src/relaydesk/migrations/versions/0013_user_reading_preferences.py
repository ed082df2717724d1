"""users: the pages' language and date convention each person chose

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("ui_locale", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("calendar", sa.String(length=16), nullable=False, server_default="local"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("calendar")
        batch.drop_column("ui_locale")
