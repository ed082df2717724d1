"""Queries of the pipeline's durable work queue (`work_items`); the only place that runs them.

Also the pipeline's batch reads: a batch's rows and its contacts' history, one query each.

Claiming is safe with any number of workers: PostgreSQL skips rows another worker has locked
(`FOR UPDATE SKIP LOCKED`); SQLite serialises writers (`BEGIN IMMEDIATE`, db.py). A conversation's
items are handed out one at a time, oldest first, so its messages are processed in arrival order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from relaydesk.core.timeutil import as_utc
from relaydesk.models import (
    ChannelAccount,
    Contact,
    Conversation,
    Message,
    StagedEvent,
    TimelineEvent,
    WorkItem,
)

PENDING = "pending"
DEAD = "dead"


@dataclass(frozen=True)
class Claimed:
    id: int
    org_id: int
    message_id: int
    conversation_id: int
    attempts: int
    created_at: datetime  # when the message was accepted (its processing latency starts there)


@dataclass(frozen=True)
class QueueStats:
    pending: int
    dead: int
    oldest_pending_at: datetime | None


def bury_crash_loops(session: Session, now: datetime, max_attempts: int) -> int:
    """Items whose lease ran out `max_attempts` times killed their worker each time: set aside."""
    result = session.execute(
        update(WorkItem)
        .where(
            WorkItem.state == PENDING,
            WorkItem.attempts >= max_attempts,
            WorkItem.lease_until.is_not(None),
            WorkItem.lease_until < now,
        )
        .values(state=DEAD, lease_owner=None, lease_until=None, last_error="the worker died processing it")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim(session: Session, owner: str, limit: int, lease: timedelta, now: datetime) -> list[Claimed]:
    """Lease up to `limit` ready items, at most one per conversation (its oldest pending one)."""
    earlier = aliased(WorkItem)
    query = (
        select(WorkItem.id)
        .where(
            WorkItem.state == PENDING,
            WorkItem.available_at <= now,
            (WorkItem.lease_until.is_(None)) | (WorkItem.lease_until < now),
            ~exists().where(
                and_(
                    earlier.conversation_id == WorkItem.conversation_id,
                    earlier.id < WorkItem.id,
                    earlier.state == PENDING,
                )
            ),
        )
        .order_by(WorkItem.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WorkItem)
    ids = list(session.scalars(query))
    if not ids:
        return []
    session.execute(
        update(WorkItem)
        .where(WorkItem.id.in_(ids))
        .values(lease_owner=owner, lease_until=now + lease, attempts=WorkItem.attempts + 1)
    )
    rows = session.execute(
        select(
            WorkItem.id,
            WorkItem.org_id,
            WorkItem.message_id,
            WorkItem.conversation_id,
            WorkItem.attempts,
            WorkItem.created_at,
        )
        .where(WorkItem.id.in_(ids))
        .order_by(WorkItem.id)
    ).all()
    return [Claimed(int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), r[5]) for r in rows]


def expire_leases(session: Session, owner_prefix: str, now: datetime) -> int:
    """Leases held by owners named `owner_prefix...` run out now (their worker is known dead)."""
    result = session.execute(
        update(WorkItem)
        .where(
            func.substr(WorkItem.lease_owner, 1, len(owner_prefix)) == owner_prefix,
            WorkItem.lease_until > now,
        )
        .values(lease_until=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def hold(session: Session, item_ids: list[int], owner: str) -> set[int]:
    """The items whose lease `owner` still has, kept until commit (locked on PostgreSQL).

    Nobody can take them over before this transaction ends (SQLite: writers are serialised), so
    `complete_many` at its end cannot find a lease lost; anything not returned was taken over.
    """
    if not item_ids:
        return set()
    query = select(WorkItem.id).where(WorkItem.id.in_(item_ids), WorkItem.lease_owner == owner)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {int(i) for i in session.scalars(query)}


def complete_many(session: Session, item_ids: list[int], owner: str) -> int:
    """Remove a batch's finished items (held with `hold` in the same transaction)."""
    if not item_ids:
        return 0
    result = session.execute(
        delete(WorkItem).where(WorkItem.id.in_(item_ids), WorkItem.lease_owner == owner),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def complete(session: Session, item_id: int, owner: str) -> bool:
    """Remove a finished item; False when its lease was lost (another worker may redo it)."""
    result = session.execute(delete(WorkItem).where(WorkItem.id == item_id, WorkItem.lease_owner == owner))
    return bool(getattr(result, "rowcount", 0))


def fail(session: Session, item_id: int, owner: str, error: str, now: datetime, max_attempts: int) -> str:
    """Give a failed item back with a growing delay, or set it aside after `max_attempts`."""
    item = session.get(WorkItem, item_id)
    if item is None or item.lease_owner != owner:
        return "lost"
    item.lease_owner = None
    item.lease_until = None
    item.last_error = error[:2000]
    if item.attempts >= max_attempts:
        item.state = DEAD
        return DEAD
    item.available_at = now + timedelta(seconds=min(300, 2**item.attempts))
    return PENDING


def _of_org(org_id: int | None) -> list[ColumnElement[bool]]:
    return [] if org_id is None else [WorkItem.org_id == org_id]


def _in_locations(location_ids: frozenset[int] | None) -> list[ColumnElement[bool]]:
    """Items of conversations at these locations only (an admin limited to part of the org)."""
    if location_ids is None:
        return []
    return [
        WorkItem.conversation_id.in_(
            select(Conversation.id).where(Conversation.location_id.in_(sorted(location_ids)))
        )
    ]


def stats(
    session: Session, org_id: int | None = None, *, location_ids: frozenset[int] | None = None
) -> QueueStats:
    """Pending and dead counts and the oldest pending arrival, of one organisation or all."""
    scoped = _of_org(org_id) + _in_locations(location_ids)
    counts = dict(
        session.execute(
            select(WorkItem.state, func.count(WorkItem.id)).where(*scoped).group_by(WorkItem.state)
        ).all()
    )
    # Ids follow arrival: the first pending id is the oldest, found on the primary key without
    # reading every pending row (a large backlog is exactly when /metrics is scraped most).
    oldest = session.scalar(
        select(WorkItem.created_at).where(WorkItem.state == PENDING, *scoped).order_by(WorkItem.id).limit(1)
    )
    # Accepted events not yet stored as messages are waiting too (and are older than any item).
    staged_scope = [] if org_id is None else [StagedEvent.org_id == org_id]
    if location_ids is None:
        staged = int(
            session.scalar(
                select(func.count(StagedEvent.id)).where(StagedEvent.state == PENDING, *staged_scope)
            )
            or 0
        )
        first_staged = session.scalar(
            select(StagedEvent.received_at)
            .where(StagedEvent.state == PENDING, *staged_scope)
            .order_by(StagedEvent.id)
            .limit(1)
        )
    else:
        # Before it is a message an event has no location yet: counted for the whole org only.
        staged, first_staged = 0, None
    first, current = as_utc(first_staged), as_utc(oldest)
    if first is not None and (current is None or first < current):
        oldest = first
    return QueueStats(
        pending=int(counts.get(PENDING, 0)) + staged, dead=int(counts.get(DEAD, 0)), oldest_pending_at=oldest
    )


def dead_items(
    session: Session,
    org_id: int | None,
    limit: int = 100,
    *,
    location_ids: frozenset[int] | None = None,
    after: int | None = None,
) -> list[WorkItem]:
    """Set-aside items of an organisation (None: of all), oldest first (`after`: the page after this id)."""
    query = select(WorkItem).where(WorkItem.state == DEAD, *_of_org(org_id), *_in_locations(location_ids))
    if after is not None:
        query = query.where(WorkItem.id > after)
    return list(session.scalars(query.order_by(WorkItem.id).limit(limit)))


def retry_dead(
    session: Session,
    org_id: int | None,
    item_ids: list[int] | None,
    now: datetime,
    *,
    location_ids: frozenset[int] | None = None,
) -> list[int]:
    """Put set-aside items back in the queue (all of the organisation's, or the named ones; org
    None: of every organisation, for the operator's CLI).

    Returns the ids put back; a named id of another organisation, or not dead, is left alone.
    """
    query = update(WorkItem).where(WorkItem.state == DEAD, *_of_org(org_id), *_in_locations(location_ids))
    if item_ids is not None:
        query = query.where(WorkItem.id.in_(item_ids))
    # RETURNING needs SQLite >= 3.35 (2021); PostgreSQL has it. Current Python builds and distributions ship newer.
    rows = session.execute(
        query.values(
            state=PENDING, attempts=0, available_at=now, last_error=None, lease_owner=None, lease_until=None
        )
        .returning(WorkItem.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(int(i) for i in rows.scalars())


def forget(session: Session, message_id: int) -> None:
    """Drop a message's item once it was processed outside the queue (`Pipeline.process`)."""
    session.execute(delete(WorkItem).where(WorkItem.message_id == message_id))


@dataclass
class ContactConversation:
    """What the pipeline needs of a contact's other conversations (history, sticky agent)."""

    id: int
    contact_id: int
    status: str
    sentiment: str | None
    assignee_id: int | None
    last_message_at: datetime | None


def contact_conversations(session: Session, contact_ids: list[int]) -> list[ContactConversation]:
    """Every conversation of these contacts in one query: a batch's history, read once."""
    if not contact_ids:
        return []
    rows = session.execute(
        select(
            Conversation.id,
            Conversation.contact_id,
            Conversation.status,
            Conversation.sentiment,
            Conversation.assignee_id,
            Conversation.last_message_at,
        ).where(Conversation.contact_id.in_(sorted(set(contact_ids))))
    )
    return [ContactConversation(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5]) for r in rows]


def load_batch(
    session: Session, message_ids: list[int]
) -> tuple[dict[int, Message], dict[int, Conversation], dict[int, ChannelAccount], dict[int, Contact]]:
    """A batch's messages, conversations, accounts and contacts: one query each, into the session."""
    messages = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(message_ids)))}
    conversation_ids = sorted({m.conversation_id for m in messages.values()})
    account_ids = sorted({m.account_id for m in messages.values()})
    contact_ids = sorted({m.contact_id for m in messages.values() if m.contact_id is not None})
    conversations = (
        {c.id: c for c in session.scalars(select(Conversation).where(Conversation.id.in_(conversation_ids)))}
        if conversation_ids
        else {}
    )
    accounts = (
        {a.id: a for a in session.scalars(select(ChannelAccount).where(ChannelAccount.id.in_(account_ids)))}
        if account_ids
        else {}
    )
    contacts = (
        {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}
        if contact_ids
        else {}
    )
    return messages, conversations, accounts, contacts


# -- timeline rows written together ------------------------------------------------------------


def insert_timeline(session: Session, rows: list[dict[str, Any]]) -> None:
    """Timeline rows in one statement, in the order given (their ids order each conversation's
    timeline); the ORM would insert them one at a time on SQLite, wanting each id back in order."""
    if rows:
        session.execute(insert(cast(Table, TimelineEvent.__table__)), rows)
