"""The analytics slice's queries; every conversation read carries the caller's scope, except the
operator's overview at the end (the command line sees every organisation)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import OPEN_STATUSES
from relaydesk.models import (
    Agency,
    Conversation,
    Department,
    Location,
    Message,
    Organization,
    SlaRecord,
    TimelineEvent,
    User,
    UserDepartment,
)


def conversations_created(
    session: Session, scope: Scope, since: datetime | None, until: datetime | None
) -> list[Conversation]:
    stmt = select(Conversation).where(scope.conversation_filter())
    if since is not None:
        stmt = stmt.where(Conversation.created_at >= since)
    if until is not None:
        stmt = stmt.where(Conversation.created_at < until)
    return list(session.scalars(stmt))


def first_inbound_times(session: Session, conversation_ids: list[int]) -> dict[int, datetime]:
    return dict(
        session.execute(
            select(Message.conversation_id, func.min(Message.sent_at))
            .where(Message.conversation_id.in_(conversation_ids), Message.direction == "inbound")
            .group_by(Message.conversation_id)
        )
        .tuples()
        .all()
    )


def sla_results(session: Session, conversation_ids: list[int]) -> Iterable[tuple[int, str, bool]]:
    """(conversation, target, met) of every SLA record, oldest first."""
    return session.execute(
        select(SlaRecord.conversation_id, SlaRecord.target, SlaRecord.met)
        .where(SlaRecord.conversation_id.in_(conversation_ids))
        .order_by(SlaRecord.id)
    ).tuples()


def departments(session: Session, org_id: int) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.org_id == org_id)))


def agency_keys(session: Session, org_id: int) -> dict[int, str]:
    return {a.id: a.key for a in session.scalars(select(Agency).where(Agency.org_id == org_id))}


def approval_events(session: Session, conversation_ids: list[int]) -> Iterable[tuple[int, str, Any]]:
    """(conversation, kind, data) of drafts held for approval, of decisions and of SLA clocks
    started (which policy), oldest first."""
    return session.execute(
        select(TimelineEvent.conversation_id, TimelineEvent.kind, TimelineEvent.data)
        .where(
            TimelineEvent.conversation_id.in_(conversation_ids),
            TimelineEvent.kind.in_(("draft", "approval", "sla")),
        )
        .order_by(TimelineEvent.id)
    ).tuples()


def created_times(session: Session, scope: Scope, since: datetime) -> Iterable[datetime]:
    return session.scalars(
        select(Conversation.created_at).where(scope.conversation_filter(), Conversation.created_at >= since)
    )


# -- the operator's overview (`relaydesk demo`): every organisation, no scope ---------------------


def overview_rows(session: Session) -> list[tuple[Conversation, str | None, str | None]]:
    """Every conversation with its department key and assignee handle, by id."""
    rows = session.execute(
        select(Conversation, Department.key, User.handle)
        .outerjoin(Department, Department.id == Conversation.department_id)
        .outerjoin(User, User.id == Conversation.assignee_id)
        .order_by(Conversation.id)
    ).all()
    return [(conversation, key, handle) for conversation, key, handle in rows]


def first_route_reason(session: Session, conversation_id: int) -> str | None:
    return session.scalars(
        select(TimelineEvent.reason)
        .where(TimelineEvent.conversation_id == conversation_id, TimelineEvent.kind == "route")
        .order_by(TimelineEvent.id)
        .limit(1)
    ).first()


def assigned_among(session: Session, conversation_ids: list[int]) -> list[tuple[int, int]]:
    """(conversation id, assignee id) of those of these conversations that are assigned, by id."""
    return [
        (int(c), int(u))
        for c, u in session.execute(
            select(Conversation.id, Conversation.assignee_id)
            .where(Conversation.id.in_(conversation_ids), Conversation.assignee_id.is_not(None))
            .order_by(Conversation.id)
        )
        if u is not None
    ]


def answered_conversation_ids(session: Session) -> set[int]:
    """Conversations with at least one outbound message."""
    return set(
        session.scalars(select(Message.conversation_id).where(Message.direction == "outbound").distinct())
    )


def location_names(session: Session, org_id: int, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id -> (key, name) of these locations."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        int(i): (str(k), str(n))
        for i, k, n in session.execute(
            select(Location.id, Location.key, Location.name).where(
                Location.org_id == org_id, Location.id.in_(wanted)
            )
        )
    }


def user_names(session: Session, org_id: int, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id -> (handle, name) of these people."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        int(i): (str(h), str(n))
        for i, h, n in session.execute(
            select(User.id, User.handle, User.name).where(User.org_id == org_id, User.id.in_(wanted))
        )
    }


def location_subtree_ids(session: Session, org_id: int, path: str) -> frozenset[int]:
    return frozenset(
        session.scalars(
            select(Location.id).where(
                Location.org_id == org_id, Location.path.startswith(path, autoescape=True)
            )
        )
    )


def location_by_key(session: Session, org_id: int, key: str) -> Location | None:
    return session.scalars(select(Location).where(Location.org_id == org_id, Location.key == key)).first()


def org_zone(session: Session, org_id: int) -> str:
    return str(
        session.scalar(select(Organization.default_timezone).where(Organization.id == org_id)) or "UTC"
    )


def export_conversations(
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    location_ids: frozenset[int] | None,
    department_ids: frozenset[int] | None,
    after_id: int,
    limit: int,
) -> list[Any]:
    """A page (by id) of the conversations a report counts, with the columns the export writes."""
    stmt = (
        select(
            Conversation.id,
            Conversation.created_at,
            Conversation.first_response_at,
            Conversation.resolved_at,
            Conversation.next_response_due,
            Conversation.first_response_business_seconds,
            Conversation.department_id,
            Conversation.location_id,
            Conversation.account_id,
            Conversation.assignee_id,
            Conversation.network,
            Conversation.sentiment,
            Conversation.intent,
            Conversation.language,
            Conversation.stage,
            Conversation.tags,
            Conversation.status,
            Conversation.transfer_count,
        )
        .where(
            scope.conversation_filter(),
            Conversation.created_at >= start,
            Conversation.created_at < end,
            Conversation.id > after_id,
        )
        .order_by(Conversation.id)
        .limit(limit)
    )
    if location_ids is not None:
        stmt = stmt.where(Conversation.location_id.in_(sorted(location_ids)))
    if department_ids is not None:
        stmt = stmt.where(Conversation.department_id.in_(sorted(department_ids)))
    return list(session.execute(stmt).all())


def location_keys(session: Session, org_id: int) -> dict[int, str]:
    return {
        int(i): str(k)
        for i, k in session.execute(select(Location.id, Location.key).where(Location.org_id == org_id))
    }


def people_names(session: Session, org_id: int) -> dict[int, str]:
    return {
        int(i): str(n) for i, n in session.execute(select(User.id, User.name).where(User.org_id == org_id))
    }


def shift_people(
    session: Session, org_id: int, department_ids: frozenset[int] | None
) -> list[tuple[Any, str]]:
    """(shifts, time zone) of the active agents and managers of these departments (None: all)."""
    stmt = select(User.shifts, User.timezone).where(
        User.org_id == org_id, User.active.is_(True), User.role.in_(("agent", "manager"))
    )
    if department_ids is not None:
        stmt = stmt.where(
            User.id.in_(
                select(UserDepartment.user_id).where(UserDepartment.department_id.in_(sorted(department_ids)))
            )
        )
    return [(list(shifts or []), str(tz or "UTC")) for shifts, tz in session.execute(stmt)]


def agent_loads(session: Session, org_id: int, user_ids: list[int]) -> dict[int, tuple[int, int]]:
    """user id -> (open conversations assigned now, capacity): the agent table's load column."""
    if not user_ids:
        return {}
    capacity = {
        int(i): int(c)
        for i, c in session.execute(
            select(User.id, User.max_concurrent).where(User.org_id == org_id, User.id.in_(user_ids))
        )
    }
    held = {
        int(i): int(n)
        for i, n in session.execute(
            select(Conversation.assignee_id, func.count())
            .where(
                Conversation.org_id == org_id,
                Conversation.assignee_id.in_(user_ids),
                Conversation.status.in_(OPEN_STATUSES),
            )
            .group_by(Conversation.assignee_id)
        )
        if i is not None
    }
    return {i: (held.get(i, 0), c) for i, c in capacity.items()}
