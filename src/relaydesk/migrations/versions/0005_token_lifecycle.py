"""API token lifecycle (expiry, minting session) and the failed-login table of login throttling

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import relaydesk.models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens minted before expiry existed get the default lifetime counted from the upgrade, so no
# integration breaks at the moment of upgrading, and none lives forever either.
EXISTING_TOKEN_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("web_session_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_tokens_web_session_id"), ["web_session_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_web_session_id_web_sessions"),
            "web_sessions",
            ["web_session_id"],
            ["id"],
            ondelete="SET NULL",
        )
    tokens = sa.table("api_tokens", sa.column("expires_at", relaydesk.models.base.UtcDateTime(timezone=True)))
    op.execute(tokens.update().values(expires_at=datetime.now(UTC) + timedelta(days=EXISTING_TOKEN_DAYS)))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=relaydesk.models.base.UtcDateTime(timezone=True), nullable=False
        )

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=False),
        sa.Column("failed_at", relaydesk.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_account", ["account_key", "failed_at"], unique=False)
        batch_op.create_index("ix_login_failures_address", ["address_key", "failed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failures_failed_at"), ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_failed_at"))
        batch_op.drop_index("ix_login_failures_address")
        batch_op.drop_index("ix_login_failures_account")
    op.drop_table("login_failures")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_tokens_web_session_id_web_sessions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_api_tokens_web_session_id"))
        batch_op.drop_column("web_session_id")
        batch_op.drop_column("expires_at")
