"""The caller's own notifications: mentions, escalations, approvals, rule notices."""

from __future__ import annotations

from fastapi import APIRouter

from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.notifications import service
from relaydesk.notifications.schemas import NotificationOut

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationOut])
def list_notifications(
    container: ContainerDep, scope: ScopeDep, unread: bool = False
) -> list[NotificationOut]:
    return service.inbox(container.sessions, scope.user_id, unread)


@router.post("/{notification_id}/read", status_code=204)
def mark_read(notification_id: int, container: ContainerDep, scope: ScopeDep) -> None:
    service.mark_read(container.sessions, scope.user_id, notification_id)
