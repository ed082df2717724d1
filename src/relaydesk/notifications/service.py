"""In-app notifications: who must know about a mention, an escalation or a rule's notify action."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.models import Conversation, Notification, User, UserDepartment

MANAGER_ROLES = ("owner", "admin", "manager")


def notify_users(
    session: Session, conversation: Conversation, user_ids: Iterable[int], kind: str, text: str
) -> int:
    count = 0
    for user_id in sorted(set(user_ids)):
        session.add(
            Notification(
                org_id=conversation.org_id,
                user_id=user_id,
                conversation_id=conversation.id,
                kind=kind,
                text=text[:1000],
            )
        )
        count += 1
    return count


def handles_to_ids(session: Session, org_id: int, handles: Iterable[str]) -> list[int]:
    names = [
        h.lstrip("@") for h in handles if h and not h.startswith("webhook:") and "@" not in h.lstrip("@")
    ]
    if not names:
        return []
    return list(
        session.scalars(
            select(User.id).where(User.org_id == org_id, User.handle.in_(names), User.active.is_(True))
        )
    )


def escalation_recipients(session: Session, conversation: Conversation) -> list[int]:
    """The assignee and the managers of the conversation's department."""
    ids: set[int] = {conversation.assignee_id} if conversation.assignee_id else set()
    if conversation.department_id is not None:
        ids.update(
            session.scalars(
                select(User.id)
                .join(UserDepartment, UserDepartment.user_id == User.id)
                .where(
                    UserDepartment.department_id == conversation.department_id,
                    User.role.in_(MANAGER_ROLES),
                    User.active.is_(True),
                )
            )
        )
    return sorted(ids)
