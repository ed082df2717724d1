"""crisis_playbooks: who is told, which webhooks, held replies, default holding statements and an
organisation's own trigger phrases, for the organisation or one brand

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crisis_playbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("notify_departments", sa.JSON(), nullable=False),
        sa.Column("notify_destinations", sa.JSON(), nullable=False),
        sa.Column("hold_replies", sa.Boolean(), nullable=False),
        sa.Column("approvers", sa.JSON(), nullable=False),
        sa.Column("holding_statements", sa.JSON(), nullable=False),
        sa.Column("triggers", sa.JSON(), nullable=False),
        sa.Column("updated_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_crisis_playbooks_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["locations.id"],
            name=op.f("fk_crisis_playbooks_place_id_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_playbooks")),
    )
    op.create_index(op.f("ix_crisis_playbooks_org_id"), "crisis_playbooks", ["org_id"])
    op.create_index("uq_crisis_playbooks_place", "crisis_playbooks", ["org_id", "place_id"], unique=True)
    op.create_index(
        "uq_crisis_playbooks_org",
        "crisis_playbooks",
        ["org_id"],
        unique=True,
        sqlite_where=sa.text("place_id IS NULL"),
        postgresql_where=sa.text("place_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_crisis_playbooks_org", table_name="crisis_playbooks")
    op.drop_index("uq_crisis_playbooks_place", table_name="crisis_playbooks")
    op.drop_index(op.f("ix_crisis_playbooks_org_id"), table_name="crisis_playbooks")
    op.drop_table("crisis_playbooks")
