"""Who the notifications slice reaches, read from the database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.models import User, UserDepartment


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
