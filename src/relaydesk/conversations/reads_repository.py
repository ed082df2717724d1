"""Queries of what people have read and of each conversation's newest message (the inbox rows).

The conversations come from a scoped page (`repository.list_conversations`) or a scoped single
read (`context.visible`): these queries only add to rows the caller may already see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import func

from relaydesk.core.enums import Direction
from relaydesk.models import ConversationRead, Message
from relaydesk.models.upsert import conflict_insert

SHOWN = (Direction.INBOUND.value, Direction.OUTBOUND.value)  # notes are not what the customer sees


@dataclass(frozen=True)
class Newest:
    """A conversation's newest message (inbound or outbound) and its newest inbound one."""

    message_id: int
    direction: str
    text: str
    sent_at: datetime | None
    newest_inbound_id: int | None


def newest_messages(session: Session, conversation_ids: list[int]) -> dict[int, Newest]:
    """Conversation id -> its newest message: two queries for a whole page."""
    if not conversation_ids:
        return {}
    latest = session.execute(
        select(
            Message.conversation_id,
            func.max(Message.id),
            func.max(Message.id).filter(Message.direction == Direction.INBOUND.value),
        )
        .where(Message.conversation_id.in_(conversation_ids), Message.direction.in_(SHOWN))
        .group_by(Message.conversation_id)
    ).all()
    inbound = {int(cid): (int(i) if i is not None else None) for cid, _, i in latest}
    rows = session.execute(
        select(Message.conversation_id, Message.id, Message.direction, Message.text, Message.sent_at).where(
            Message.id.in_([int(newest) for _, newest, _ in latest])
        )
    ).all()
    return {
        int(cid): Newest(int(mid), str(direction), str(text or ""), sent_at, inbound.get(int(cid)))
        for cid, mid, direction, text, sent_at in rows
    }


def read_markers(session: Session, user_id: int, conversation_ids: list[int]) -> dict[int, int | None]:
    """Conversation id -> the newest message id when `user_id` last read it (absent: never)."""
    if not conversation_ids:
        return {}
    rows = session.execute(
        select(ConversationRead.conversation_id, ConversationRead.read_message_id).where(
            ConversationRead.user_id == user_id, ConversationRead.conversation_id.in_(conversation_ids)
        )
    )
    return {int(cid): (int(mid) if mid is not None else None) for cid, mid in rows}


def newest_message_id(session: Session, conversation_id: int) -> int | None:
    found = session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id))
    return int(found) if found is not None else None


def mark_read(
    session: Session, user_id: int, conversation_id: int, message_id: int | None, now: datetime
) -> None:
    """Remember that `user_id` has read the conversation up to `message_id` (never backwards)."""
    table = cast(Table, ConversationRead.__table__)
    stmt = conflict_insert(session, table).values(
        user_id=user_id, conversation_id=conversation_id, read_message_id=message_id, read_at=now
    )
    keep = func.coalesce(table.c.read_message_id, 0) > func.coalesce(stmt.excluded.read_message_id, 0)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "conversation_id"],
            set_={"read_message_id": stmt.excluded.read_message_id, "read_at": stmt.excluded.read_at},
            where=~keep,
        )
    )
