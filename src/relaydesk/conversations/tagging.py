"""Tags an agent adds to or removes from a conversation, recorded on its timeline."""

from __future__ import annotations

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import timeline
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.schemas import ConversationOut
from relaydesk.conversations.tag_rules import changed_tags
from relaydesk.conversations.views import summary
from relaydesk.core.events import ConversationUpdated, publish_on_commit
from relaydesk.db import transaction


def change_tags(
    deps: Deps, scope: Scope, conversation_id: int, add: list[str], remove: list[str]
) -> ConversationOut:
    scope.require_write()
    with transaction(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id, lock=True)
        before = list(conversation.tags or [])
        after = changed_tags(before, add, remove)
        if after != before:
            conversation.tags = after
            added = [t for t in after if t not in before]
            removed = [t for t in before if t not in after]
            words = [f"+{t}" for t in added] + [f"-{t}" for t in removed]
            timeline.record(
                session,
                conversation,
                "tags",
                "tags: " + ", ".join(words),
                {"added": added, "removed": removed},
                actor_id=scope.user_id,
            )
            publish_on_commit(
                session,
                ConversationUpdated(
                    org_id=conversation.org_id, conversation_id=conversation.id, fields=["tags"]
                ),
            )
        session.flush()
        return summary(session, conversation)
