"""Macros: a saved reply that, once sent, also changes priority, tags, status or department.

The reply goes first (it is what the customer waits for); then each part is its own change, with
its own timeline entry and permission check, so a part the caller may not make fails alone with
its reason. A reply held for approval has not reached the customer: resolving the conversation
or handing it to another team then would hide that it still waits, so those two parts are
skipped and said so; tags and priority apply at once.
"""

from __future__ import annotations

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import canned, handoff, status, tagging, timeline
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.schemas import ConversationOut, MacroOut
from relaydesk.conversations.views import summary
from relaydesk.core.enums import Priority
from relaydesk.core.errors import NotFound, UserError
from relaydesk.core.events import ConversationUpdated, publish_on_commit
from relaydesk.db import transaction

STATUS_ACTIONS = {"pending": "pending", "resolved": "resolve"}


def change_priority(deps: Deps, scope: Scope, conversation_id: int, priority: str) -> ConversationOut:
    scope.require_write()
    allowed = [p.value for p in Priority]
    if priority not in allowed:
        raise UserError(f"priority: {priority!r} is not one of {', '.join(allowed)}")
    with transaction(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id, lock=True)
        before = conversation.priority
        if before != priority:
            conversation.priority = priority
            timeline.record(
                session,
                conversation,
                "priority",
                f"priority {before} -> {priority} by hand",
                {"from": before, "to": priority, "how": "hand"},
                actor_id=scope.user_id,
            )
            publish_on_commit(
                session,
                ConversationUpdated(
                    org_id=conversation.org_id, conversation_id=conversation.id, fields=["priority"]
                ),
            )
        session.flush()
        return summary(session, conversation)


def run_macro(
    deps: Deps, scope: Scope, conversation_id: int, key: str, *, reply_held: bool = False
) -> MacroOut:
    """Apply the saved reply `key`'s actions to the conversation (after its reply was sent)."""
    offered = {r.key: r for r in canned.canned(deps, scope, conversation_id)}
    chosen = offered.get(key.removeprefix("/"))
    if chosen is None:
        raise NotFound(f"macro: no saved reply /{key.removeprefix('/')} for this conversation")
    actions = chosen.actions
    applied: list[str] = []
    skipped: list[str] = []
    out: ConversationOut | None = None
    if actions.tags:
        out = tagging.change_tags(deps, scope, conversation_id, list(actions.tags), [])
        applied.append("tags")
    if actions.priority:
        out = change_priority(deps, scope, conversation_id, actions.priority)
        applied.append("priority")
    if actions.status:
        if reply_held:
            skipped.append("status")
        else:
            out = status.change_status(deps, scope, conversation_id, STATUS_ACTIONS[actions.status])
            applied.append("status")
    if actions.transfer:
        if reply_held:
            skipped.append("transfer")
        else:
            note = f"/{chosen.key}: {chosen.title}"
            out = handoff.transfer(deps, scope, conversation_id, actions.transfer, note)
            applied.append("transfer")
    if out is None:
        with transaction(deps.sessions) as session:
            out = summary(session, visible(session, scope, conversation_id))
    return MacroOut(applied=applied, skipped=skipped, actions=actions, conversation=out)
