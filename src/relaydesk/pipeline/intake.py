"""Storing one inbound event: its contact, its conversation, the message row and its queued work.

All of it in the accept's transaction, so a message is never stored without its pending work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.channels.base import InboundEvent
from relaydesk.core.enums import ConversationStatus, Direction
from relaydesk.core.events import MessageAccepted, publish_on_commit
from relaydesk.core.timeutil import as_utc
from relaydesk.models import ChannelAccount, Contact, Organization, TimelineEvent
from relaydesk.pipeline import repository as queue
from relaydesk.pipeline.conversation_threads import conversation_for

# As many characters as the default body limit (1 MiB) holds bytes: no webhook can carry a longer
# text, so every message that arrives over HTTP is kept whole. Longer ones (imports, pollers) are
# cut, and the stored text says so where agents read it (the inbox and the API).
MAX_TEXT = 1024 * 1024
TRUNCATION_NOTE = "\n\n[RelayDesk: {cut:,} more characters of this message were not stored]"


def stored_text(text: str) -> str:
    """The text as stored: whole up to MAX_TEXT characters, else cut with a visible note."""
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + TRUNCATION_NOTE.format(cut=len(text) - MAX_TEXT)


@dataclass(frozen=True)
class AcceptResult:
    message_id: int
    conversation_id: int
    duplicate: bool


class Duplicate(Exception):
    """A concurrent delivery of the same event stored it first."""


def store(session: Session, account_id: int, event: InboundEvent, now: datetime) -> AcceptResult:
    """Store the event in the caller's transaction; raises Duplicate if another delivery won."""
    account = session.get(ChannelAccount, account_id)
    if account is None:
        raise LookupError(f"account {account_id} does not exist")
    org = session.get(Organization, account.org_id)
    assert org is not None
    sent_at = as_utc(event.sent_at) or now
    contact_id = contact_for(session, account, event)
    conversation = conversation_for(session, org, account, contact_id, event, now)
    values: dict[str, Any] = {
        "org_id": account.org_id,
        "conversation_id": conversation.id,
        "account_id": account.id,
        "direction": Direction.INBOUND.value,
        "kind": event.kind,
        "external_id": event.external_id,
        "thread_external_id": event.thread_id,
        "reply_to_external_id": event.reply_to_id,
        "contact_id": contact_id,
        "text": stored_text(event.text),
        "attachments": [vars(a) for a in event.attachments],
        "raw": event.raw,
        "sent_at": sent_at,
        "created_at": now,
    }
    message_id = queue.insert_message(session, values)
    if message_id is None:
        # A concurrent delivery of the same event won the race: undo our conversation work.
        raise Duplicate()
    # In the accept's own transaction: a message is never stored without its pending work.
    queue.enqueue(session, account.org_id, conversation.id, message_id, now)
    publish_on_commit(
        session,
        MessageAccepted(org_id=account.org_id, conversation_id=conversation.id, message_id=message_id),
    )
    conversation.last_message_at = max(as_utc(conversation.last_message_at) or sent_at, sent_at)
    conversation.last_inbound_at = sent_at
    if conversation.awaiting_since is None:
        conversation.awaiting_since = sent_at
    if conversation.status == ConversationStatus.PENDING.value:
        conversation.status = ConversationStatus.OPEN.value
        session.add(
            TimelineEvent(
                org_id=account.org_id,
                conversation_id=conversation.id,
                message_id=message_id,
                kind="status",
                reason="customer answered: pending -> open (SLA clock resumes)",
                data={"from": "pending", "to": "open"},
            )
        )
    if event.author_followers is not None or event.contact_attributes:
        contact = session.get(Contact, contact_id)
        if contact is not None:
            attrs = dict(contact.attributes or {})
            if event.author_followers is not None:
                attrs["followers"] = event.author_followers
            attrs.update(event.contact_attributes)
            contact.attributes = attrs
    return AcceptResult(message_id=message_id, conversation_id=conversation.id, duplicate=False)


def contact_for(session: Session, account: ChannelAccount, event: InboundEvent) -> int:
    """The contact behind the event's author on this network, created on first contact."""
    network = account.network
    author = event.author_id or "unknown"
    found = queue.identity_contact(session, account.org_id, network, author)
    if found is None:
        contact = Contact(
            org_id=account.org_id,
            display_name=(event.author_name or event.author_handle or author)[:200],
            attributes={},
        )
        session.add(contact)
        session.flush()
        created = queue.add_identity(
            session, account.org_id, contact.id, network, author, event.author_handle
        )
        if created is None:
            session.delete(contact)
            found = queue.identity_contact(session, account.org_id, network, author)
            assert found is not None  # the identity that won the race
        else:
            found = contact.id
    # A merged contact points at the survivor; follow the chain (bounded against cycles).
    for _ in range(10):
        merged = queue.merged_into(session, found)
        if merged is None:
            break
        found = merged
    return int(found)
