"""The analytics slice's queries; every conversation read carries the caller's scope, except the
operator's overview at the end (the command line sees every organisation)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.models import Agency, Conversation, Department, Message, SlaRecord, TimelineEvent, User


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
    """(conversation, kind, data) of drafts held for approval and of decisions, oldest first."""
    return session.execute(
        select(TimelineEvent.conversation_id, TimelineEvent.kind, TimelineEvent.data)
        .where(
            TimelineEvent.conversation_id.in_(conversation_ids), TimelineEvent.kind.in_(("draft", "approval"))
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
