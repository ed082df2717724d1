"""Bulk actions from the inbox: one action over many conversations, each one checked on its own.

Every conversation goes through the same single-conversation use case (and so the same scope
check, lock and events) in its own transaction: one the caller may not see or change is reported
and skipped, and never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from relaydesk.auth.scopes import Scope
from relaydesk.conversations.schemas import BULK_LIMIT, BulkItemOut, BulkParams, ConversationOut
from relaydesk.conversations.tag_rules import clean_tag
from relaydesk.core.errors import Forbidden, UserError

ACTIONS = ("resolve", "assign", "transfer", "tag")


class Actions(Protocol):
    def assign(self, scope: Scope, conversation_id: int, assignee_id: int | None) -> ConversationOut: ...

    def transfer(
        self, scope: Scope, conversation_id: int, department_key: str, note: str
    ) -> ConversationOut: ...

    def change_status(self, scope: Scope, conversation_id: int, action: str) -> ConversationOut: ...

    def change_tags(
        self, scope: Scope, conversation_id: int, add: list[str], remove: list[str]
    ) -> ConversationOut: ...


def bulk(
    actions: Actions, scope: Scope, ids: list[int], action: str, params: BulkParams
) -> list[BulkItemOut]:
    scope.require_write()
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise UserError("ids: choose at least one conversation")
    if len(unique) > BULK_LIMIT:
        raise UserError(f"ids: at most {BULK_LIMIT} conversations at once, not {len(unique)}")
    run = _one(actions, scope, action, params)
    results: list[BulkItemOut] = []
    for conversation_id in unique:
        try:
            run(conversation_id)
        except (UserError, Forbidden) as exc:
            results.append(BulkItemOut(id=conversation_id, ok=False, error=str(exc)))
        else:
            results.append(BulkItemOut(id=conversation_id, ok=True))
    return results


def _one(actions: Actions, scope: Scope, action: str, params: BulkParams) -> Callable[[int], object]:
    """The change for one conversation; the parameters are checked once, before any is changed."""
    if action == "resolve":
        return lambda cid: actions.change_status(scope, cid, "resolve")
    if action == "tag":
        tag = clean_tag(params.tag or "")
        return lambda cid: actions.change_tags(scope, cid, [tag], [])
    if action == "assign":
        return lambda cid: actions.assign(scope, cid, params.assignee_id)
    if action == "transfer":
        department = (params.department or "").strip()
        note = (params.note or "").strip()
        if not department:
            raise UserError("params.department: choose the department to hand off to")
        if not note:
            raise UserError("params.note: a hand-off needs a note for the new team")
        return lambda cid: actions.transfer(scope, cid, department, note)
    raise UserError(f"action: unknown action {action!r}; one of {', '.join(ACTIONS)}")
