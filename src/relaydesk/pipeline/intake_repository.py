"""Queries of storing inbound events (`intake.py` and its helpers); the only place that runs them.

Each reads or writes for a whole run of events at once: one query per kind of row, one INSERT per
table (`intake.store_many`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, or_, select
from sqlalchemy.orm import Session

from relaydesk.core.enums import Direction
from relaydesk.models import Contact, ContactIdentity, Conversation, Message, WorkItem
from relaydesk.models.upsert import conflict_insert

IdentityKey = tuple[int, str, str]  # (org id, network, the network's user id)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def message_refs(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, int]]:
    """(account id, external id) -> (message id, conversation id) of the events already stored."""
    if not keys:
        return {}
    rows = session.execute(
        select(Message.account_id, Message.external_id, Message.id, Message.conversation_id).where(
            Message.account_id.in_(sorted({k[0] for k in keys})),
            Message.external_id.in_(sorted({k[1] for k in keys})),
        )
    )
    out: dict[tuple[int, str], tuple[int, int]] = {}
    for row in rows:
        key = (int(row[0]), str(row[1]))
        if key in keys:
            out[key] = (int(row[2]), int(row[3]))
    return out


def conversation_replied_to(
    session: Session, account_id: int, contact_id: int, reply_to_external_id: str
) -> Conversation | None:
    """The conversation holding the message replied to: the contact's own or one of ours."""
    return session.scalars(
        select(Conversation)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Message.account_id == account_id, Message.external_id == reply_to_external_id)
        .where(or_(Message.contact_id == contact_id, Message.direction != Direction.INBOUND.value))
        .limit(1)
    ).first()


def recent_conversations(
    session: Session, pairs: set[tuple[int, int]], since: datetime
) -> list[Conversation]:
    """The conversations of these (account id, contact id) pairs active since `since`."""
    if not pairs:
        return []
    rows = session.scalars(
        select(Conversation).where(
            Conversation.contact_id.in_(sorted({contact for _, contact in pairs})),
            Conversation.account_id.in_(sorted({account for account, _ in pairs})),
            Conversation.last_message_at >= since,
        )
    )
    return [c for c in rows if (c.account_id, c.contact_id) in pairs]


def identity_contacts(session: Session, keys: list[IdentityKey]) -> dict[IdentityKey, int]:
    if not keys:
        return {}
    wanted = set(keys)
    rows = session.execute(
        select(
            ContactIdentity.org_id,
            ContactIdentity.network,
            ContactIdentity.external_user_id,
            ContactIdentity.contact_id,
        ).where(
            ContactIdentity.org_id.in_(sorted({k[0] for k in keys})),
            ContactIdentity.network.in_(sorted({k[1] for k in keys})),
            ContactIdentity.external_user_id.in_(sorted({k[2] for k in keys})),
        )
    )
    out: dict[IdentityKey, int] = {}
    for row in rows:
        key = (int(row[0]), str(row[1]), str(row[2]))
        if key in wanted:
            out[key] = int(row[3])
    return out


def insert_contacts(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """New contacts' ids, in the order of `rows` (PostgreSQL inserts them in one statement)."""
    table = cast(Table, Contact.__table__)
    created = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [int(i) for i in created.scalars()]


def insert_identities(session: Session, rows: list[dict[str, Any]]) -> set[IdentityKey]:
    """Insert identities; returns the keys inserted (one another delivery made first is skipped)."""
    table = cast(Table, ContactIdentity.__table__)
    won = session.execute(
        conflict_insert(session, table)
        .on_conflict_do_nothing(index_elements=["org_id", "network", "external_user_id"])
        .returning(table.c.org_id, table.c.network, table.c.external_user_id),
        rows,
    )
    return {(int(r[0]), str(r[1]), str(r[2])) for r in won}


def delete_contacts(session: Session, contact_ids: list[int]) -> None:
    table = cast(Table, Contact.__table__)
    session.execute(delete(table).where(table.c.id.in_(contact_ids)))


def merged_into(session: Session, contact_ids: set[int]) -> dict[int, int]:
    """contact id -> the contact it was merged into, for those of `contact_ids` that were merged."""
    rows = session.execute(
        select(Contact.id, Contact.merged_into_id).where(
            Contact.id.in_(sorted(contact_ids)), Contact.merged_into_id.is_not(None)
        )
    )
    return {int(r[0]): int(r[1]) for r in rows if r[1] is not None}


def contacts(session: Session, contact_ids: set[int]) -> dict[int, Contact]:
    return {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(sorted(contact_ids))))}


def insert_messages(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    """Insert a run's messages in one statement; their ids by (account id, external id) (a row
    already there is skipped)."""
    table = cast(Table, Message.__table__)
    stmt = (
        conflict_insert(session, table)
        .on_conflict_do_nothing(index_elements=["account_id", "external_id"])
        .returning(table.c.id, table.c.account_id, table.c.external_id)
    )
    # The rows come back named by their key, so the order they come back in does not matter
    # (an ordered RETURNING would make SQLite insert them one at a time).
    return {(int(r[1]), str(r[2])): int(r[0]) for r in session.execute(stmt, rows)}


def insert_work(session: Session, rows: list[dict[str, Any]]) -> None:
    """A run's work items, numbered in the order of `rows` (each conversation's order rests on it)."""
    table = cast(Table, WorkItem.__table__)
    if _postgres(session):
        # Ordered RETURNING makes PostgreSQL number the rows in parameter order.
        session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).all()
    else:
        # SQLite runs the rows one after another (ordered RETURNING would cost a statement each).
        session.execute(insert(table), rows)
