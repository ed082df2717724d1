"""Two agents on one conversation: who else is viewing or typing, and stopping a second answer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations.context import Deps, visible
from relaydesk.core.errors import Conflict, UserError
from relaydesk.core.events import PresenceChanged, publish_now
from relaydesk.db import reading
from relaydesk.models import Conversation, User


def touch_presence(deps: Deps, scope: Scope, conversation_id: int, state: str) -> list[dict[str, str]]:
    with reading(deps.sessions) as session:
        visible(session, scope, conversation_id)
        user = session.get(User, scope.user_id)
        handle = user.handle if user else str(scope.user_id)
    try:
        changed = deps.presence.touch(conversation_id, scope.user_id, handle, state)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if changed:
        # Colleagues with the conversation open see "@sam is typing" without waiting.
        publish_now(
            PresenceChanged(
                org_id=scope.org_id, conversation_id=conversation_id, user_id=scope.user_id, state=state
            )
        )
    return present(deps, conversation_id, scope.user_id)


def present(deps: Deps, conversation_id: int, user_id: int) -> list[dict[str, str]]:
    return [{"handle": p.handle, "state": p.state} for p in deps.presence.others(conversation_id, user_id)]


def check_collision(
    deps: Deps, session: Session, scope: Scope, conversation: Conversation, last_seen: int | None
) -> None:
    """Stop a second agent's answer: a colleague replied since this agent looked, or is typing."""
    if last_seen is not None:
        newer = repo.reply_by_other_since(session, conversation.id, last_seen, scope.user_id)
        if newer is not None:
            raise Conflict(
                f"@{newer[1]} already replied after you opened this conversation; read it first "
                "(send again with force=true to reply anyway)"
            ).saying("replied_meanwhile", handle=newer[1])
    typing = [p for p in deps.presence.others(conversation.id, scope.user_id) if p.state == "typing"]
    if typing:
        raise Conflict(
            f"@{typing[0].handle} is typing a reply right now (send again with force=true to reply anyway)"
        ).saying("typing_meanwhile", handle=typing[0].handle)
