"""a network identity belongs to one account; reply idempotency keys per org and conversation

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

1. ``channel_accounts (network, external_id)`` becomes unique (NULLs may repeat). Webhooks are
   routed by that identity, so a second holder could take another organisation's traffic.
   Existing duplicates are settled before the index is built:
   - an identity held by at most one *active* account stays with it (or, when all its holders
     are inactive, with the newest); the other, inactive, holders lose their external_id. Inactive
     accounts receive nothing today, so no traffic moves.
   - an identity held by two or more *active* accounts blocks the upgrade with a message listing
     them: which organisation really owns a page is for a person to decide, not a migration.
     Nothing is changed; release the wrong holder(s) as the message says and upgrade again.
   A unique index rather than a table constraint: SQLite rebuilds a table to add a constraint,
   and dropping the old channel_accounts would cascade-delete every conversation and message.
2. ``outbox`` gets ``conversation_id`` and ``request_key`` (the caller's Idempotency-Key), unique
   per (org_id, conversation_id, request_key); ``idempotency_key`` stays the installation-wide
   key handed to the networks. Existing rows keep their key as request key, so a retry of a
   request made before the upgrade still finds its reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from relaydesk.migrate import MigrationBlocked

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _settle_duplicate_identities() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT a.id, a.network, a.external_id, a.active, a.key, o.key AS org_key "
            "FROM channel_accounts a JOIN organizations o ON o.id = a.org_id "
            "WHERE a.external_id IS NOT NULL AND EXISTS ("
            "  SELECT 1 FROM channel_accounts b"
            "  WHERE b.network = a.network AND b.external_id = a.external_id AND b.id <> a.id"
            ") ORDER BY a.network, a.external_id, a.id"
        )
    ).all()
    groups: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        groups.setdefault((row.network, row.external_id), []).append(row)
    blocked: list[str] = []
    release: list[int] = []
    for (network, external_id), holders in groups.items():
        active = [row for row in holders if row.active]
        if len(active) > 1:
            names = ", ".join(f"account {row.id} ({row.org_key}/{row.key})" for row in active)
            blocked.append(f"{network} {external_id}: {names}")
            continue
        keeper = active[0] if active else holders[-1]
        release += [row.id for row in holders if row.id != keeper.id]
    if blocked:
        # Before any write: the transaction is rolled back with nothing changed.
        raise MigrationBlocked(
            "migration 0004 makes each network identity belong to one account, but these are held "
            "by more than one active account: "
            + "; ".join(blocked)
            + ". Decide which account keeps each one and clear the others, e.g. "
            "UPDATE channel_accounts SET external_id = NULL WHERE id = <account id>; "
            "then start RelayDesk again."
        )
    if release:
        bind.execute(
            sa.text("UPDATE channel_accounts SET external_id = NULL WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": release},
        )


def upgrade() -> None:
    _settle_duplicate_identities()
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_accounts_network_external")
        batch_op.create_index(
            "uq_channel_accounts_network_external_id", ["network", "external_id"], unique=True
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("request_key", sa.String(length=128), nullable=True))
    op.execute(
        "UPDATE outbox SET request_key = idempotency_key, conversation_id = "
        "(SELECT messages.conversation_id FROM messages WHERE messages.id = outbox.message_id)"
    )
    # outbox is referenced by no table, so SQLite's rebuild of it here cascades nowhere.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("conversation_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_conversation_id_conversations"),
            "conversations",
            ["conversation_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            "uq_outbox_org_conversation_request_key",
            ["org_id", "conversation_id", "request_key"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("uq_outbox_org_conversation_request_key")
        batch_op.drop_constraint(batch_op.f("fk_outbox_conversation_id_conversations"), type_="foreignkey")
        batch_op.drop_column("request_key")
        batch_op.drop_column("conversation_id")

    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.drop_index("uq_channel_accounts_network_external_id")
        batch_op.create_index(
            "ix_channel_accounts_network_external", ["network", "external_id"], unique=False
        )
