"""The caller's own notifications: mentions, escalations, approvals, rule notices."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.notifications import repository

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


class NotificationOut(BaseModel):
    id: int
    kind: str
    text: str
    conversation_id: int | None
    read: bool
    at: datetime


@router.get("", response_model=list[NotificationOut])
def list_notifications(
    container: ContainerDep, scope: ScopeDep, unread: bool = False
) -> list[NotificationOut]:
    with container.sessions() as session:
        rows = repository.notifications_of(session, scope.user_id, unread, 200)
        return [
            NotificationOut(
                id=n.id,
                kind=n.kind,
                text=n.text,
                conversation_id=n.conversation_id,
                read=n.read_at is not None,
                at=n.created_at,
            )
            for n in rows
        ]


@router.post("/{notification_id}/read", status_code=204)
def mark_read(notification_id: int, container: ContainerDep, scope: ScopeDep) -> None:
    with transaction(container.sessions) as session:
        row = repository.notification_of(session, scope.user_id, notification_id)
        if row is None:
            raise HTTPException(status_code=404, detail=f"notification {notification_id} not found")
        row.read_at = row.read_at or utcnow()
