"""The audit slice's queries: write entries mid-flush, read them back filtered and scoped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from relaydesk.models import AuditEntry, User


def insert_entries(session: Session, rows: list[dict[str, Any]]) -> None:
    # Through the connection, not the unit of work: this runs while the session is flushing.
    table: Table = AuditEntry.__table__  # type: ignore[assignment]
    session.connection().execute(insert(table), rows)


def entries(
    session: Session,
    org_id: int,
    *,
    kind: str | None = None,
    actor: str | None = None,
    key: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int | None = 100,
) -> Sequence[AuditEntry]:
    """Newest first; the organisation is in the query, whatever the filters say."""
    query = select(AuditEntry).where(AuditEntry.org_id == org_id)
    if kind:
        query = query.where(AuditEntry.kind == kind)
    if actor:
        query = query.where(AuditEntry.actor_name == actor)
    if key:
        query = query.where(AuditEntry.key == key)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    query = query.order_by(AuditEntry.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def actor_names(session: Session, org_id: int) -> list[str]:
    query = select(AuditEntry.actor_name).where(AuditEntry.org_id == org_id).distinct()
    return sorted(session.scalars(query).all())


def user_name(session: Session, user_id: int) -> str | None:
    return session.scalar(select(User.name).where(User.id == user_id))
