"""faq_entries: draft → approved → retired, variants, answers per language, validity dates;
departments.spokesperson: whose members approve FAQ entries

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_faq = sa.table(
    "faq_entries",
    sa.column("id", sa.Integer()),
    sa.column("answer", sa.Text()),
    sa.column("language", sa.String()),
    sa.column("approved", sa.Boolean()),
    sa.column("status", sa.String()),
    sa.column("answers", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.add_column(sa.Column("spokesperson", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("faq_entries") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="draft"))
        batch.add_column(sa.Column("variants", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("answers", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("approved_by_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("approved_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("updated_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch.create_foreign_key(
            batch.f("fk_faq_entries_approved_by_id_users"),
            "users",
            ["approved_by_id"],
            ["id"],
            ondelete="SET NULL",
        )

    # The primary answer also goes into `answers`, so every language is read from one place.
    bind = op.get_bind()
    for row in bind.execute(sa.select(_faq.c.id, _faq.c.answer, _faq.c.language, _faq.c.approved)).all():
        bind.execute(
            _faq.update()
            .where(_faq.c.id == row.id)
            .values(
                status="approved" if row.approved else "draft",
                answers={row.language or "en": row.answer},
            )
        )

    with op.batch_alter_table("faq_entries") as batch:
        batch.drop_column("approved")


def downgrade() -> None:
    with op.batch_alter_table("faq_entries") as batch:
        batch.add_column(sa.Column("approved", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute(_faq.update().values(approved=_faq.c.status == "approved"))
    with op.batch_alter_table("faq_entries") as batch:
        batch.drop_constraint(batch.f("fk_faq_entries_approved_by_id_users"), type_="foreignkey")
        batch.drop_column("updated_at")
        batch.drop_column("approved_at")
        batch.drop_column("approved_by_id")
        batch.drop_column("valid_until")
        batch.drop_column("valid_from")
        batch.drop_column("answers")
        batch.drop_column("variants")
        batch.drop_column("status")
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("spokesperson")
