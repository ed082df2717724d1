"""A reply goes out (at once, or when an approver releases it): SLA targets, status, timeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.conversations import timeline
from relaydesk.conversations.context import Deps
from relaydesk.conversations.states import after_agent_reply
from relaydesk.core.enums import ConversationStatus
from relaydesk.core.events import ConversationUpdated, ReplyQueued, publish_on_commit
from relaydesk.guidelines import service as guidelines
from relaydesk.models import ChannelAccount, Conversation, Message, OutboxItem


def release(
    deps: Deps,
    session: Session,
    conversation: Conversation,
    message: Message,
    account: ChannelAccount,
    actor_id: int,
    set_pending: bool,
    now: datetime,
    approval: str = "",
) -> None:
    """The reply goes out: SLA targets are met (or not) now, and the status moves on."""
    if conversation.sla_paused_at is not None:
        # Answered while waiting on the customer: judged against the resumed targets.
        deps.sla.resume(session, conversation, now, "an agent replied")
    records = deps.sla.on_reply(session, conversation, now)
    before = conversation.status
    conversation.status = after_agent_reply(conversation.status, set_pending).value
    if conversation.status == ConversationStatus.PENDING.value:
        deps.sla.pause(session, conversation, now)
    changed = ["status"] if before != conversation.status else []
    if conversation.assignee_id is None and message.author_user_id is not None:
        conversation.assignee_id = message.author_user_id
        changed.append("assignee_id")
    conversation.last_message_at = now
    # The FAQ page's usage counts: a reply counts once it goes out, a held one when approved.
    guidelines.count_faq_uses(session, conversation.org_id, conversation.location_id, message.text or "")
    sla_text = ", ".join(f"{r.target} {'met' if r.met else 'breached'}" for r in records)
    timeline.record(
        session,
        conversation,
        "reply",
        f"replied on {account.network}"
        + approval
        + (f"; {sla_text}" if sla_text else "")
        + (f"; {before} -> {conversation.status}" if before != conversation.status else ""),
        {"network": account.network, "sla": [{"target": r.target, "met": r.met} for r in records]},
        actor_id=actor_id,
        message_id=message.id,
    )
    publish_on_commit(
        session, ReplyQueued(org_id=conversation.org_id, conversation_id=conversation.id, reply_id=message.id)
    )
    if changed:
        publish_on_commit(
            session,
            ConversationUpdated(org_id=conversation.org_id, conversation_id=conversation.id, fields=changed),
        )


def queue_outbox(
    session: Session,
    conversation: Conversation,
    account_id: int,
    message_id: int,
    now: datetime,
    *,
    held: bool = False,
    request_key: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """The reply's place in the outbox: sent by the outbox worker, or kept as a draft while held."""
    session.add(
        OutboxItem(
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            message_id=message_id,
            account_id=account_id,
            # Ours, never the caller's: the networks de-duplicate on it.
            idempotency_key=uuid.uuid4().hex,
            request_key=request_key,
            status="draft" if held else "queued",
            payload=payload or {},
            next_attempt_at=now,
        )
    )
