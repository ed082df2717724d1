"""The one way a conversation's timeline gets a row: who did what, and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from relaydesk.models import Conversation, TimelineEvent


def record(
    session: Session,
    conversation: Conversation,
    kind: str,
    reason: str,
    data: dict[str, Any] | None = None,
    *,
    actor_id: int | None = None,
    message_id: int | None = None,
) -> TimelineEvent:
    """Add a timeline event to the caller's transaction; it is written with the change it explains."""
    event = TimelineEvent(
        org_id=conversation.org_id,
        conversation_id=conversation.id,
        message_id=message_id,
        kind=kind,
        actor_user_id=actor_id,
        reason=reason,
        data=data if data is not None else {},
    )
    session.add(event)
    return event
