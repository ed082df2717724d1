"""Who answers: assigning to a person (or back to the queue) and handing off to another department."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations import timeline
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.notes import add_note
from relaydesk.conversations.schemas import ConversationOut
from relaydesk.conversations.states import is_transfer_loop
from relaydesk.conversations.views import summary
from relaydesk.core.errors import Conflict, Forbidden, NotFound, Refused
from relaydesk.core.events import ConversationAssigned, ConversationTransferred, publish_on_commit
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import Conversation, Department, User
from relaydesk.orgs.service import org_service as orgs
from relaydesk.routing.service import TEAM_TAG


def assign(deps: Deps, scope: Scope, conversation_id: int, assignee_id: int | None) -> ConversationOut:
    scope.require_write()
    with transaction(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id, lock=True)
        if assignee_id is None:
            conversation.assignee_id = None
            handle = None
            reason = "unassigned: back to the department queue"
        else:
            user = _assignable(session, scope, conversation, assignee_id)
            conversation.assignee_id = user.id
            user.last_assigned_at = utcnow()
            handle = user.handle
            reason = f"assigned to @{user.handle} by hand"
        timeline.record(
            session,
            conversation,
            "assign",
            reason,
            {"agent_id": assignee_id, "handle": handle, "how": "hand"},
            actor_id=scope.user_id,
        )
        publish_on_commit(
            session,
            ConversationAssigned(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                user_id=conversation.assignee_id,
                actor_user_id=scope.user_id,
            ),
        )
        out = summary(session, conversation)
    return out


def _assignable(session: Session, scope: Scope, conversation: Conversation, assignee_id: int) -> User:
    """The person to assign, or why they cannot take this conversation."""
    user = session.get(User, assignee_id)
    if user is None or user.org_id != scope.org_id or not user.active:
        raise NotFound(f"assignee_id: no active user {assignee_id} in this organisation")
    if user.role == "viewer":
        raise Refused(f"assignee_id: @{user.handle} is a viewer and cannot answer conversations").saying(
            "assignee_viewer", handle=user.handle
        )
    if conversation.department_id is not None and not scope.sees_department(conversation.department_id):
        raise Forbidden("you cannot assign within a department you cannot see")
    if not repo.is_member(session, user.id, conversation.department_id) and user.role not in (
        "owner",
        "admin",
    ):
        raise Refused(
            f"assignee_id: @{user.handle} is not in this conversation's department; "
            "transfer the conversation first"
        ).saying("assignee_other_department", handle=user.handle)
    if user.location_id is not None:
        here = orgs.location_path(session, conversation.location_id)
        if not here.startswith(orgs.location_path(session, user.location_id)):
            raise Refused(
                f"assignee_id: @{user.handle} works for another location and cannot see this"
            ).saying("assignee_other_location", handle=user.handle)
    if repo.outside_accounts(session, user.id, conversation.account_id):
        raise Refused(f"assignee_id: @{user.handle} answers other accounts only and cannot see this").saying(
            "assignee_other_account", handle=user.handle
        )
    return user


def transfer(
    deps: Deps, scope: Scope, conversation_id: int, department_key: str, note: str
) -> ConversationOut:
    """Hand-off to another department with a note: no email ping-pong between teams."""
    scope.require_write()
    with transaction(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id, lock=True)
        target = repo.department_by_key(session, scope.org_id, department_key)
        if target is None:
            raise NotFound(f"department: no department '{department_key}'")
        if target.id == conversation.department_id:
            raise Conflict(f"department: the conversation is already in '{department_key}'").saying(
                "already_in_department", department=target.name
            )
        history = department_history(session, conversation)
        if is_transfer_loop(history, target.key):
            raise Refused(
                f"department: transfer loop stopped — this conversation has already bounced "
                f"between {' -> '.join(history)}; a manager should decide who answers it"
            ).saying("transfer_loop")
        source = session.get(Department, conversation.department_id) if conversation.department_id else None
        note_id = add_note(session, conversation, scope.user_id, f"Hand-off to {target.name}: {note}")
        conversation.department_id = target.id
        conversation.assignee_id = None
        conversation.transfer_count += 1
        # A person's hand-off replaces the rule's choice of team: the new department's people decide.
        conversation.tags = [t for t in (conversation.tags or []) if not t.startswith(TEAM_TAG)]
        timeline.record(
            session,
            conversation,
            "transfer",
            f"transferred from {source.key if source else 'no department'} to {target.key}",
            {"from": source.key if source else None, "to": target.key},
            actor_id=scope.user_id,
            message_id=note_id,
        )
        publish_on_commit(
            session,
            ConversationTransferred(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                from_department_id=source.id if source else None,
                to_department_id=target.id,
                actor_user_id=scope.user_id,
            ),
        )
        session.flush()
        deps.routing.assign(session, conversation, None)
        out = summary(session, conversation)
    return out


def department_history(session: Session, conversation: Conversation) -> list[str]:
    """The departments a conversation has been in, oldest first (for the transfer-loop check)."""
    history: list[str] = []
    for event in repo.department_moves(session, conversation.id):
        data: dict[str, Any] = dict(event.data or {})
        dept = data.get("department") if event.kind == "route" else data.get("to")
        if isinstance(dept, str):
            history.append(dept)
    if not history and conversation.department_id:
        current = session.get(Department, conversation.department_id)
        if current:
            history.append(current.key)
    return history
