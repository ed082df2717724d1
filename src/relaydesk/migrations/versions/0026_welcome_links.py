"""welcome_links: one-time links for invited people to set their password

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "welcome_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_welcome_links_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_welcome_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_welcome_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_welcome_links_token_hash")),
    )
    with op.batch_alter_table("welcome_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_welcome_links_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("welcome_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_welcome_links_user_id"))
    op.drop_table("welcome_links")
