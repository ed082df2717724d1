"""conversation: routed triage kept, latest reading beside it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

`conversations.intent` / `sentiment` used to follow the newest message. They now hold the
reading the conversation was routed on, and `latest_intent` / `latest_sentiment` the newest
message's. Existing rows: the latest reading is what the columns held; the routed one is taken
back from the message named by the conversation's first routing event (its stored triage,
corrections included) where there is one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def _as_dict(value: Any) -> dict[str, Any]:
    # JSON columns come back decoded on PostgreSQL and as text on SQLite
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latest_sentiment", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("latest_intent", sa.String(length=64), nullable=True))

    conn = op.get_bind()
    conn.execute(sa.text("UPDATE conversations SET latest_intent = intent, latest_sentiment = sentiment"))
    rows = conn.execute(
        sa.text(
            "SELECT t.conversation_id, m.triage FROM timeline_events t "
            "JOIN messages m ON m.id = t.message_id "
            "WHERE t.id IN (SELECT MIN(id) FROM timeline_events WHERE kind = 'route' GROUP BY conversation_id)"
        )
    ).all()
    update = sa.text("UPDATE conversations SET intent = :intent, sentiment = :sentiment WHERE id = :id")
    params = []
    for conversation_id, triage in rows:
        reading = _as_dict(triage)
        if "sentiment" in reading:
            params.append(
                {
                    "id": conversation_id,
                    "intent": reading.get("intent"),
                    "sentiment": reading.get("sentiment"),
                }
            )
        if len(params) >= BATCH:
            conn.execute(update, params)
            params = []
    if params:
        conn.execute(update, params)


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("latest_intent")
        batch_op.drop_column("latest_sentiment")
