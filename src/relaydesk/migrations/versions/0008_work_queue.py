"""durable work queue of the pipeline

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", relaydesk.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index("ix_work_items_conversation", ["conversation_id", "id"], unique=False)
        batch_op.create_index("ix_work_items_ready", ["state", "available_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_items_org_id"), ["org_id"], unique=False)
    # Messages accepted but not processed before the queue existed become its first work.
    op.execute(
        "INSERT INTO work_items (org_id, conversation_id, message_id, state, attempts, available_at, created_at) "
        "SELECT org_id, conversation_id, id, 'pending', 0, created_at, created_at FROM messages "
        "WHERE direction = 'inbound' AND processed_at IS NULL ORDER BY id"
    )


def downgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_items_org_id"))
        batch_op.drop_index("ix_work_items_ready")
        batch_op.drop_index("ix_work_items_conversation")
    op.drop_table("work_items")
