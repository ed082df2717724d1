"""Queries of the pipeline's durable work queue (`work_items`); the only place that runs them.

Claiming is safe with any number of workers: PostgreSQL skips rows another worker has locked
(`FOR UPDATE SKIP LOCKED`); SQLite serialises writers (`BEGIN IMMEDIATE`, db.py). A conversation's
items are handed out one at a time, oldest first, so its messages are processed in arrival order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from relaydesk.models import WorkItem

PENDING = "pending"
DEAD = "dead"


@dataclass(frozen=True)
class Claimed:
    id: int
    org_id: int
    message_id: int
    conversation_id: int
    attempts: int


@dataclass(frozen=True)
class QueueStats:
    pending: int
    dead: int
    oldest_pending_at: datetime | None


def enqueue(session: Session, org_id: int, conversation_id: int, message_id: int, now: datetime) -> None:
    session.add(
        WorkItem(
            org_id=org_id,
            conversation_id=conversation_id,
            message_id=message_id,
            state=PENDING,
            attempts=0,
            available_at=now,
            created_at=now,
        )
    )


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
        select(WorkItem.id, WorkItem.org_id, WorkItem.message_id, WorkItem.conversation_id, WorkItem.attempts)
        .where(WorkItem.id.in_(ids))
        .order_by(WorkItem.id)
    ).all()
    return [Claimed(int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


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


def stats(session: Session) -> QueueStats:
    pending, oldest = session.execute(
        select(func.count(WorkItem.id), func.min(WorkItem.created_at)).where(WorkItem.state == PENDING)
    ).one()
    dead = session.execute(select(func.count(WorkItem.id)).where(WorkItem.state == DEAD)).scalar_one()
    return QueueStats(pending=int(pending), dead=int(dead), oldest_pending_at=oldest)


def dead_items(session: Session, org_id: int, limit: int = 100) -> list[WorkItem]:
    return list(
        session.scalars(
            select(WorkItem)
            .where(WorkItem.org_id == org_id, WorkItem.state == DEAD)
            .order_by(WorkItem.id)
            .limit(limit)
        )
    )


def retry_dead(session: Session, org_id: int, item_ids: list[int] | None, now: datetime) -> int:
    """Put set-aside items back in the queue (all of the organisation's, or the named ones)."""
    query = update(WorkItem).where(WorkItem.org_id == org_id, WorkItem.state == DEAD)
    if item_ids is not None:
        query = query.where(WorkItem.id.in_(item_ids))
    result = session.execute(query.values(state=PENDING, attempts=0, available_at=now, last_error=None))
    return int(getattr(result, "rowcount", 0) or 0)


def forget(session: Session, message_id: int) -> None:
    """Drop a message's item once it was processed outside the queue (`Pipeline.process`)."""
    session.execute(delete(WorkItem).where(WorkItem.message_id == message_id))
