"""canned_responses: saved replies per organisation, one text per language

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("department_keys", sa.JSON(), nullable=False),
        sa.Column("created_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_canned_responses_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint("org_id", "key", name=op.f("uq_canned_responses_org_id_key")),
    )
    with op.batch_alter_table("canned_responses") as batch:
        batch.create_index(batch.f("ix_canned_responses_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("canned_responses") as batch:
        batch.drop_index(batch.f("ix_canned_responses_org_id"))
    op.drop_table("canned_responses")
