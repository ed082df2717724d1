"""Who the notifications slice reaches, read from the database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from relaydesk.models import Notification, NotificationDestination, User, UserDepartment


def active_users(session: Session, ids: Iterable[int]) -> Sequence[User]:
    return session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True))).all()


def active_ids_by_handle(session: Session, org_id: int, names: Sequence[str]) -> list[int]:
    return list(
        session.scalars(
            select(User.id).where(User.org_id == org_id, User.handle.in_(names), User.active.is_(True))
        )
    )


def active_members_with_roles(session: Session, department_id: int, roles: Sequence[str]) -> list[int]:
    return list(
        session.scalars(
            select(User.id)
            .join(UserDepartment, UserDepartment.user_id == User.id)
            .where(
                UserDepartment.department_id == department_id,
                User.role.in_(roles),
                User.active.is_(True),
            )
        )
    )


def notifications_of(session: Session, user_id: int, unread: bool, limit: int) -> Sequence[Notification]:
    """A user's notifications, newest first."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)).all()


def notification_of(session: Session, user_id: int, notification_id: int) -> Notification | None:
    return session.scalars(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
    ).first()


def unread_count(session: Session, user_id: int) -> int:
    """How many notifications the person has not read (the bell's number); the index covers it."""
    stmt = select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    return int(session.scalar(stmt) or 0)


def mark_all_read(session: Session, user_id: int, at: datetime) -> int:
    """Everything unread of one person is read now; returns how many were."""
    stmt = (
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=at)
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def active_destination(session: Session, org_id: int, name: str) -> NotificationDestination | None:
    return session.scalars(
        select(NotificationDestination).where(
            NotificationDestination.org_id == org_id,
            NotificationDestination.name == name,
            NotificationDestination.active.is_(True),
        )
    ).first()
