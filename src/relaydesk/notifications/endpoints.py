"""The caller's own notifications: mentions, escalations, approvals, rule notices."""

from __future__ import annotations

from fastapi import APIRouter

from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.notifications.schemas import NotificationOut

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationOut])
def list_notifications(
    container: ContainerDep, scope: ScopeDep, unread: bool = False
) -> list[NotificationOut]:
    return container.notifications.page(scope, unread=unread)


@router.get("/unread-count")
def unread_count(container: ContainerDep, scope: ScopeDep) -> dict[str, int]:
    """The bell's number."""
    return {"unread": container.notifications.unread_count(scope)}


@router.post("/read-all")
def read_all(container: ContainerDep, scope: ScopeDep) -> dict[str, int]:
    """Mark every unread notification of the caller read; answers how many were."""
    return {"marked": container.notifications.mark_all_read(scope)}


@router.post("/{notification_id}/read", status_code=204)
def mark_read(notification_id: int, container: ContainerDep, scope: ScopeDep) -> None:
    container.notifications.mark_read(scope, notification_id)
