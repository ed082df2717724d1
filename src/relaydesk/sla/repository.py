"""The SLA slice's queries: first inbound time, the policies' longest warning, clocks due soon."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from relaydesk.core.enums import Direction
from relaydesk.models import Conversation, Message, SlaPolicy


def first_inbound_at(session: Session, conversation_id: int) -> datetime | None:
    """When the customer's first message of the conversation was sent."""
    return session.scalar(
        select(func.min(Message.sent_at)).where(
            Message.conversation_id == conversation_id, Message.direction == Direction.INBOUND.value
        )
    )


def longest_warning_minutes(session: Session) -> int | None:
    return session.scalar(select(func.max(SlaPolicy.warn_before_minutes)))


def clocks_due_by(session: Session, until: datetime, now: datetime) -> list[Conversation]:
    """Running, unbreached clocks that may need a warning by `until` or a breach by `now`; on
    PostgreSQL each is taken by one worker.

    A clock already warned is only read again once it is overdue: every open conversation of a
    busy day was read again on every round of the timers (`relaydesk bench e2e`).
    """
    stmt = select(Conversation).where(
        Conversation.next_response_due.is_not(None),
        or_(
            Conversation.next_response_due <= now,
            and_(Conversation.sla_warned_at.is_(None), Conversation.next_response_due <= until),
        ),
        Conversation.status.in_(("new", "open", "reopened")),
        Conversation.sla_breached_at.is_(None),
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several workers tick at once in scale-out mode: each clock is handled by one of them.
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))
