"""The caller's own notifications: mentions, escalations, approvals, rule notices."""

from __future__ import annotations

from fastapi import APIRouter

from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.notifications.schemas import NotificationOut
from relaydesk.notifications.service import NotificationCentre

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationOut])
def list_notifications(
    container: ContainerDep, scope: ScopeDep, unread: bool = False
) -> list[NotificationOut]:
    return NotificationCentre(container.sessions).page(scope, unread=unread)


@router.get("/unread-count")
def unread_count(container: ContainerDep, scope: ScopeDep) -> dict[str, int]:
    """The bell's number."""
    return {"unread": NotificationCentre(container.sessions).unread_count(scope)}


@router.post("/read-all")
def read_all(container: ContainerDep, scope: ScopeDep) -> dict[str, int]:
    """Mark every unread notification of the caller read; answers how many were."""
    return {"marked": NotificationCentre(container.sessions).mark_all_read(scope)}


@router.post("/{notification_id}/read", status_code=204)
def mark_read(notification_id: int, container: ContainerDep, scope: ScopeDep) -> None:
    NotificationCentre(container.sessions).mark_read(scope, notification_id)
