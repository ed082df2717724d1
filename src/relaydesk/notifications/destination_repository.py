"""Notification destinations in SQL: always one organisation's, bounded, by name."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.models import NotificationDestination


def destinations(session: Session, org_id: int, search: str, limit: int) -> Sequence[NotificationDestination]:
    stmt = select(NotificationDestination).where(NotificationDestination.org_id == org_id)
    if search:
        stmt = stmt.where(NotificationDestination.name.contains(search, autoescape=True))
    return session.scalars(stmt.order_by(NotificationDestination.name).limit(limit)).all()


def destination(
    session: Session, org_id: int, name: str, *, lock: bool = False
) -> NotificationDestination | None:
    stmt = select(NotificationDestination).where(
        NotificationDestination.org_id == org_id, NotificationDestination.name == name
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()
