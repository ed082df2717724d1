"""Threading: which conversation an inbound message belongs to, reopened or created as needed.

Reply-to first, then the network's thread, then the same contact on the same account within the
organisation's reopen window; else a new conversation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from relaydesk.channels.base import InboundEvent
from relaydesk.core.enums import ConversationStatus
from relaydesk.core.timeutil import as_utc
from relaydesk.models import ChannelAccount, Conversation, Organization, TimelineEvent
from relaydesk.pipeline import repository as queue


def conversation_for(
    session: Session,
    org: Organization,
    account: ChannelAccount,
    contact_id: int,
    event: InboundEvent,
    now: datetime,
) -> Conversation:
    """Reply-to first, then the network thread, then the same contact on the same account."""
    window_start = now - timedelta(hours=org.reopen_window_hours)
    conversation: Conversation | None = None
    how = ""
    if event.reply_to_id:
        conversation = queue.conversation_replied_to(session, account.id, contact_id, event.reply_to_id)
        how = f"reply to message {event.reply_to_id}"
    if conversation is None:
        conversation = queue.recent_conversation(
            session, account.id, contact_id, window_start, event.thread_id
        )
        how = "same contact and account within the reopen window"
    if conversation is not None:
        if conversation.status == ConversationStatus.RESOLVED.value:
            conversation.status = ConversationStatus.REOPENED.value
            conversation.resolved_at = None
            session.add(
                TimelineEvent(
                    org_id=org.id,
                    conversation_id=conversation.id,
                    kind="status",
                    reason=f"customer wrote again ({how}): resolved -> reopened",
                    data={"from": "resolved", "to": "reopened"},
                )
            )
        elif conversation.status == ConversationStatus.SNOOZED.value:
            conversation.status = ConversationStatus.OPEN.value
            conversation.snoozed_until = None
            session.add(
                TimelineEvent(
                    org_id=org.id,
                    conversation_id=conversation.id,
                    kind="status",
                    reason="customer wrote while snoozed: snoozed -> open",
                    data={"from": "snoozed", "to": "open"},
                )
            )
        return conversation
    conversation = Conversation(
        org_id=org.id,
        account_id=account.id,
        location_id=account.location_id,
        contact_id=contact_id,
        network=account.network,
        thread_key=event.thread_id,
        subject=" ".join(event.text.split())[:120],
        status=ConversationStatus.NEW.value,
        last_message_at=as_utc(event.sent_at) or now,
        # What `intake.store` sets for the first message, set here: no UPDATE right after the INSERT.
        last_inbound_at=as_utc(event.sent_at) or now,
        awaiting_since=as_utc(event.sent_at) or now,
        # When the customer started it, not when we stored it: imports and delayed webhooks
        # keep their real place in reports and staffing.
        created_at=min(as_utc(event.sent_at) or now, now),
        tags=[],
    )
    session.add(conversation)
    session.flush()
    session.add(
        TimelineEvent(
            org_id=org.id,
            conversation_id=conversation.id,
            kind="created",
            reason=f"new conversation from {account.network} account '{account.key}'",
        )
    )
    return conversation
