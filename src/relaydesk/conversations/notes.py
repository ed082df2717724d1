"""Internal notes: written for colleagues, never sent; an @mention asks that person for help."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations import timeline
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.schemas import ConversationOut
from relaydesk.conversations.views import summary
from relaydesk.core.enums import Direction
from relaydesk.core.events import ConversationUpdated, publish_on_commit
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import Conversation, Message, User
from relaydesk.notifications import service as notifications

MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{2,64})")


def note(deps: Deps, scope: Scope, conversation_id: int, text: str) -> tuple[ConversationOut, int]:
    scope.require_write()
    with transaction(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id)
        message_id = add_note(session, conversation, scope.user_id, text)
        publish_on_commit(
            session,
            ConversationUpdated(
                org_id=conversation.org_id, conversation_id=conversation.id, fields=["notes"]
            ),
        )
        out = summary(session, conversation)
    return out, message_id


def add_note(session: Session, conversation: Conversation, user_id: int, text: str) -> int:
    now = utcnow()
    message = Message(
        org_id=conversation.org_id,
        conversation_id=conversation.id,
        account_id=conversation.account_id,
        direction=Direction.NOTE.value,
        kind="note",
        author_user_id=user_id,
        text=text,
        attachments=[],
        raw={},
        sent_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    handles = sorted(set(MENTION.findall(text)))
    mentioned = repo.active_users_by_handle(session, conversation.org_id, handles)
    timeline.record(
        session,
        conversation,
        "note",
        "internal note"
        + (f"; asked {', '.join('@' + u.handle for u in mentioned)} for help" if mentioned else ""),
        {"mentions": [u.id for u in mentioned], "handles": [u.handle for u in mentioned]},
        actor_id=user_id,
        message_id=message.id,
    )
    if mentioned:
        author = session.get(User, user_id)
        who = f"@{author.handle}" if author else "a colleague"
        notifications.notify_users(
            session,
            conversation,
            [u.id for u in mentioned if u.id != user_id],
            "mention",
            f"{who} asked for your help on conversation #{conversation.id}: {text[:200]}",
        )
    return message.id
