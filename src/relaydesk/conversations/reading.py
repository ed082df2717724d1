"""Reading the inbox: a filtered page of conversations, and one conversation in full."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import reads_repository as reads
from relaydesk.conversations import repository as repo
from relaydesk.conversations.collisions import present
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.filters import (
    ConversationFilters,
    InvalidFilter,
    effective_statuses,
    filter_problems,
)
from relaydesk.conversations.held_replies import approval_out
from relaydesk.conversations.schemas import ConversationDetail, ConversationPage, MessageOut, TimelineOut
from relaydesk.conversations.sorting import sort_problem
from relaydesk.conversations.views import summaries, summary
from relaydesk.core.errors import UserError
from relaydesk.core.timeutil import utcnow
from relaydesk.db import reading, transaction
from relaydesk.models import Contact, Conversation, Message, User

PREVIEW = 160  # characters of the newest message on an inbox row


def page(
    deps: Deps, scope: Scope, filters: ConversationFilters, cursor: str | None = None, limit: int = 50
) -> ConversationPage:
    if not 1 <= limit <= 200:
        raise UserError("limit: must be between 1 and 200")
    problems = filter_problems(
        status=filters.status,
        sentiment=filters.sentiment,
        priority=filters.priority,
        sla=filters.sla,
        assignee=filters.assignee,
    )
    if problem := sort_problem(filters.sort):
        problems.append(problem)
    with reading(deps.sessions) as session:
        problems += repo.unknown_filter_keys(session, scope.org_id, filters)
        if problems:
            raise InvalidFilter("; ".join(problems))
        filters = dataclasses.replace(filters, status=effective_statuses(filters.status))
        rows, next_cursor = repo.list_conversations(session, scope, filters, cursor, limit)
        items = summaries(session, rows)
        newest = reads.newest_messages(session, [c.id for c in items])
        markers = reads.read_markers(session, scope.user_id, [c.id for c in items])
        for item in items:
            found = newest.get(item.id)
            if found is not None:
                item.last_message = preview(found.text)
                item.last_message_direction = found.direction
            item.unread = is_unread(
                found.newest_inbound_id if found else None, item.id in markers, markers.get(item.id)
            )
        return ConversationPage(items=items, next_cursor=next_cursor)


def preview(text: str) -> str:
    """A message as one line of the inbox: spaces and line breaks run together, cut at PREVIEW."""
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1].rstrip() + "…"


def is_unread(newest_inbound_id: int | None, opened: bool, read_up_to: int | None) -> bool:
    """Unread: the customer wrote and the reader has not opened it since (never opened counts)."""
    if newest_inbound_id is None:
        return False
    return not opened or read_up_to is None or newest_inbound_id > read_up_to


def mark_read(deps: Deps, scope: Scope, conversation_id: int) -> None:
    """The caller has seen the conversation as it is now (opening it in the workspace)."""
    with transaction(deps.sessions) as session:
        visible(session, scope, conversation_id)
        reads.mark_read(
            session,
            scope.user_id,
            conversation_id,
            reads.newest_message_id(session, conversation_id),
            utcnow(),
        )


def detail(deps: Deps, scope: Scope, conversation_id: int) -> ConversationDetail:
    with reading(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id)
        found = _detail(session, conversation, scope)
    found.present = present(deps, conversation_id, scope.user_id)
    return found


def _detail(session: Session, conversation: Conversation, scope: Scope) -> ConversationDetail:
    messages = repo.messages_of(session, conversation.id)
    caller = session.get(User, scope.user_id)
    events = repo.timeline_of(session, conversation.id)
    user_ids = {m.author_user_id for m in messages if m.author_user_id} | {
        e.actor_user_id for e in events if e.actor_user_id
    }
    handles = repo.handles_of(session, user_ids)
    contact = session.get(Contact, conversation.contact_id)
    contact_name = contact.display_name if contact else "customer"
    return ConversationDetail(
        conversation=summary(session, conversation),
        messages=[
            MessageOut(
                id=m.id,
                direction=m.direction,
                kind=m.kind,
                text=m.text,
                author=(
                    f"@{handles.get(m.author_user_id, m.author_user_id)}"
                    if m.author_user_id
                    else "RelayDesk"
                    if m.direction == "outbound"
                    else contact_name
                ),
                external_id=m.external_id,
                attachments=list(m.attachments or []),
                delivery_status=m.delivery_status,
                delivery_error=m.delivery_error,
                triage=m.triage,
                sent_at=m.sent_at,
                approval=approval_out(session, conversation, m, caller),
                automatic=_automatic(m),
            )
            for m in messages
        ],
        timeline=[
            TimelineOut(
                kind=e.kind,
                reason=e.reason,
                actor=f"@{handles[e.actor_user_id]}" if e.actor_user_id in handles else None,
                data=dict(e.data or {}),
                at=e.created_at,
            )
            for e in events
        ],
    )


def _automatic(message: Message) -> str | None:
    kind = (message.raw or {}).get("automatic") if message.direction == "outbound" else None
    return kind if kind in ("away", "faq") else None
