"""Queries of the people settings: a searchable, paged list scoped in SQL, and one person's parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from relaydesk.models import Agency, Conversation, Department, Location, User, UserDepartment
from relaydesk.orgs.repository import OPEN_STATUSES


@dataclass(frozen=True)
class Team:
    """A manager's team as SQL sees it: every department of the person among these, none empty."""

    department_ids: frozenset[int]
    location_ids: frozenset[int] | None  # None = anywhere in the organisation


@dataclass(frozen=True)
class PeopleQuery:
    search: str = ""
    department_id: int | None = None
    role: str | None = None
    active: bool | None = None


def _team_condition(team: Team) -> ColumnElement[bool]:
    member = UserDepartment.user_id == User.id
    conditions: list[ColumnElement[bool]] = [
        exists().where(member),
        not_(exists().where(member, UserDepartment.department_id.not_in(sorted(team.department_ids)))),
    ]
    if team.location_ids is not None:
        conditions.append(User.location_id.in_(sorted(team.location_ids)))
    return and_(*conditions)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def people(
    session: Session, org_id: int, query: PeopleQuery, team: Team | None, offset: int, limit: int
) -> tuple[list[User], int]:
    """One page of the people the caller may list, by name, and how many there are in all."""
    conditions: list[ColumnElement[bool]] = [User.org_id == org_id]
    if team is not None:
        conditions.append(_team_condition(team))
    if query.search:
        pattern = _like(query.search)
        conditions.append(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.handle).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    if query.department_id is not None:
        conditions.append(
            exists().where(
                UserDepartment.user_id == User.id, UserDepartment.department_id == query.department_id
            )
        )
    if query.role is not None:
        conditions.append(User.role == query.role)
    if query.active is not None:
        conditions.append(User.active.is_(query.active))
    where = and_(*conditions)
    total = int(session.scalar(select(func.count(User.id)).where(where)) or 0)
    rows = session.scalars(
        select(User).where(where).order_by(func.lower(User.name), User.id).offset(offset).limit(limit)
    )
    return list(rows), total


def person(session: Session, org_id: int, user_id: int) -> User | None:
    return session.scalars(select(User).where(User.org_id == org_id, User.id == user_id)).first()


def department_ids_by_user(session: Session, user_ids: Sequence[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    if user_ids:
        rows = session.execute(
            select(UserDepartment.user_id, UserDepartment.department_id).where(
                UserDepartment.user_id.in_(list(user_ids))
            )
        )
        for user_id, department_id in rows:
            out.setdefault(int(user_id), set()).add(int(department_id))
    return out


def memberships(session: Session, user_id: int) -> list[UserDepartment]:
    return list(session.scalars(select(UserDepartment).where(UserDepartment.user_id == user_id)))


def departments(session: Session, org_id: int) -> list[Department]:
    return list(
        session.scalars(select(Department).where(Department.org_id == org_id).order_by(Department.name))
    )


def agencies(session: Session, org_id: int) -> list[Agency]:
    return list(session.scalars(select(Agency).where(Agency.org_id == org_id).order_by(Agency.name)))


def locations_by_id(session: Session, location_ids: Sequence[int]) -> dict[int, Location]:
    if not location_ids:
        return {}
    rows = session.scalars(select(Location).where(Location.id.in_(list(location_ids))))
    return {row.id: row for row in rows}


def location_by_key(session: Session, org_id: int, key: str) -> Location | None:
    return session.scalars(select(Location).where(Location.org_id == org_id, Location.key == key)).first()


def location_choices(
    session: Session, org_id: int, within: frozenset[int] | None, limit: int
) -> list[tuple[str, str]]:
    """(key, name) of the places a person's scope may be set to, by key, at most `limit`."""
    query = select(Location.key, Location.name).where(Location.org_id == org_id)
    if within is not None:
        query = query.where(Location.id.in_(sorted(within)))
    return [(str(k), str(n)) for k, n in session.execute(query.order_by(Location.key).limit(limit))]


def taken(session: Session, org_id: int, column: str, value: str, except_id: int | None) -> bool:
    """Whether another person of the organisation has this email or handle (case-insensitively)."""
    field = User.email if column == "email" else User.handle
    query = select(func.count(User.id)).where(User.org_id == org_id, func.lower(field) == value.lower())
    if except_id is not None:
        query = query.where(User.id != except_id)
    return bool(session.scalar(query))


def active_owners_besides(session: Session, org_id: int, user_id: int | None) -> int:
    query = select(func.count(User.id)).where(
        User.org_id == org_id, User.role == "owner", User.active.is_(True)
    )
    if user_id is not None:
        query = query.where(User.id != user_id)
    return int(session.scalar(query) or 0)


def open_conversation_ids(session: Session, user_id: int, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(Conversation.id)
            .where(Conversation.assignee_id == user_id, Conversation.status.in_(OPEN_STATUSES))
            .order_by(Conversation.id)
            .limit(limit)
        )
    )
