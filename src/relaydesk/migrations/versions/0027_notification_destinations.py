"""notification_destinations: named outbound webhooks kept in the database, URLs sealed

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_destinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url_secret", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_notification_destinations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_destinations")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_notification_destinations_org_id_name")),
    )
    with op.batch_alter_table("notification_destinations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_destinations_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification_destinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_destinations_org_id"))
    op.drop_table("notification_destinations")
