"""staged_events: the intake queue of accepted webhook events

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staged_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=False),
        sa.Column("event", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_staged_events_account_id_channel_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_staged_events_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_staged_events_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staged_events")),
        sa.UniqueConstraint(
            "account_id", "external_id", name=op.f("uq_staged_events_account_id_external_id")
        ),
    )
    with op.batch_alter_table("staged_events", schema=None) as batch_op:
        batch_op.create_index("ix_staged_events_done", ["state", "received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staged_events_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_staged_events_ready", ["state", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staged_events", schema=None) as batch_op:
        batch_op.drop_index("ix_staged_events_ready")
        batch_op.drop_index(batch_op.f("ix_staged_events_org_id"))
        batch_op.drop_index("ix_staged_events_done")

    op.drop_table("staged_events")
