"""An agent corrects what triage said (language, sentiment, intent); a spam verdict is followed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import timeline
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.schemas import ConversationOut
from relaydesk.conversations.views import summary
from relaydesk.core.enums import SPAM, ConversationStatus, Priority
from relaydesk.core.events import ConversationUpdated, publish_on_commit
from relaydesk.db import transaction
from relaydesk.models import Conversation, Message
from relaydesk.triage.service import record_correction


def correct(
    deps: Deps, scope: Scope, conversation_id: int, message_id: int, field: str, value: str | None
) -> ConversationOut:
    """An agent corrects language, sentiment or intent; it is stored and becomes an example."""
    scope.require_write()
    with transaction(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id, lock=True)
        record_correction(session, conversation, message_id, scope.user_id, field, value)
        fields = [field]
        if field == "intent" and _follow_spam_verdict(
            deps, session, conversation, message_id, value == SPAM, scope.user_id
        ):
            fields.append("tags")
        publish_on_commit(
            session,
            ConversationUpdated(org_id=conversation.org_id, conversation_id=conversation.id, fields=fields),
        )
        out = summary(session, conversation)
    return out


def _follow_spam_verdict(
    deps: Deps, session: Session, conversation: Conversation, message_id: int, spam: bool, actor_id: int
) -> bool:
    """A person said whether it is spam: spam leaves assignment and the clocks, the rest joins them.

    Whether the verdict changed the conversation's tags.
    """
    tags = list(conversation.tags or [])
    if spam == (SPAM in tags):
        return False
    message = session.get(Message, message_id)
    if spam:
        tags.append(SPAM)
        conversation.assignee_id = None
        conversation.next_response_due = None
        conversation.resolution_due = None
        if conversation.first_response_at is None:
            conversation.first_response_due = None
        reason = "marked as spam: unassigned, SLA clocks stopped"
    else:
        tags.remove(SPAM)
        if conversation.priority == Priority.LOW.value:
            conversation.priority = Priority.NORMAL.value
        reason = "not spam after all: back into assignment and the SLA clocks"
    conversation.tags = tags
    timeline.record(
        session, conversation, "triage", reason, {"spam": spam}, actor_id=actor_id, message_id=message_id
    )
    if not spam and message is not None and conversation.status != ConversationStatus.RESOLVED.value:
        if conversation.assignee_id is None:
            deps.routing.assign(session, conversation, message)
        deps.sla.on_inbound(session, conversation, message)
    return True
