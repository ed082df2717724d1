"""staged_events by account and arrival: each account's last received event, for its status page

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staged_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staged_events_account_received", ["account_id", "received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("staged_events", schema=None) as batch_op:
        batch_op.drop_index("ix_staged_events_account_received")
