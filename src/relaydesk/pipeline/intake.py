"""Storing inbound events: their contacts, their conversations, the message rows and their queued work.

All of it in the caller's transaction, so a message is never stored without its pending work.
`store_many` stores a run of events in a few statements for the whole run (a surge's worth of
events cost ~14 statements each one at a time); `store` is the run of one.
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
from relaydesk.models import ChannelAccount, Conversation, Organization
from relaydesk.pipeline import intake_repository
from relaydesk.pipeline import repository as queue
from relaydesk.pipeline.conversation_threads import Threads, TimelineEntry, reopen_window_start
from relaydesk.pipeline.intake_contacts import Author, contacts_for

# As many characters as the default body limit (1 MiB) holds bytes: no webhook can carry a longer
# text, so every message that arrives over HTTP is kept whole. Longer ones (imports, pollers) are
# cut, and the stored text says so where agents read it (the inbox and the API).
MAX_TEXT = 1024 * 1024
TRUNCATION_NOTE = "\n\n[RelayDesk: {cut:,} more characters of this message were not stored]"

MessageKey = tuple[int, str]  # (account id, the network's message id)


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


@dataclass(frozen=True)
class Arrival:
    """One event to store: its account, the event, and when it was accepted."""

    account_id: int
    event: InboundEvent
    at: datetime


class Duplicate(Exception):
    """A concurrent delivery of the same event stored it first."""


def store(session: Session, account_id: int, event: InboundEvent, now: datetime) -> AcceptResult:
    """Store the event in the caller's transaction; raises Duplicate if it is stored already."""
    result = store_many(session, [Arrival(account_id, event, now)])[0]
    if result.duplicate:
        raise Duplicate()
    return result


def message_values(
    account: ChannelAccount, event: InboundEvent, sent_at: datetime, now: datetime
) -> dict[str, Any]:
    """The message row of an inbound event (its conversation and contact are added by the caller)."""
    return {
        "org_id": account.org_id,
        "account_id": account.id,
        "direction": Direction.INBOUND.value,
        "kind": event.kind,
        "external_id": event.external_id,
        "thread_external_id": event.thread_id,
        "reply_to_external_id": event.reply_to_id,
        "text": stored_text(event.text),
        "attachments": [vars(a) for a in event.attachments],
        "raw": event.raw,
        "sent_at": sent_at,
        "created_at": now,
    }


def store_many(session: Session, arrivals: list[Arrival]) -> list[AcceptResult]:
    """Store a run of events in order, in the caller's transaction: one result per arrival.

    An event already stored is answered `duplicate` with its row. Raises Duplicate when a
    concurrent delivery stores one of them while this runs (the caller rolls the run back).
    Raises LookupError for an account that does not exist.
    """
    accounts: dict[int, ChannelAccount] = {}
    orgs: dict[int, Organization] = {}
    for arrival in arrivals:
        account = accounts.get(arrival.account_id) or session.get(ChannelAccount, arrival.account_id)
        if account is None:
            raise LookupError(f"account {arrival.account_id} does not exist")
        accounts[account.id] = account
        if account.org_id not in orgs:
            org = session.get(Organization, account.org_id)
            assert org is not None
            orgs[org.id] = org
    stored = intake_repository.message_refs(session, {(a.account_id, a.event.external_id) for a in arrivals})
    fresh = [a for a in arrivals if (a.account_id, a.event.external_id) not in stored]
    made: dict[MessageKey, tuple[Conversation, int]] = {}
    if fresh:
        made = _store_fresh(session, fresh, accounts, orgs)
    results = []
    for arrival in arrivals:
        key = (arrival.account_id, arrival.event.external_id)
        if key in stored:
            message_id, conversation_id = stored[key]
            results.append(AcceptResult(message_id, conversation_id, duplicate=True))
        else:
            conversation, message_id = made[key]
            results.append(AcceptResult(message_id, conversation.id, duplicate=False))
    return results


def _store_fresh(
    session: Session,
    arrivals: list[Arrival],
    accounts: dict[int, ChannelAccount],
    orgs: dict[int, Organization],
) -> dict[MessageKey, tuple[Conversation, int]]:
    contact_ids = contacts_for(session, [_author(accounts[a.account_id], a.event) for a in arrivals])
    pairs = {(a.account_id, c) for a, c in zip(arrivals, contact_ids, strict=True)}
    since = min(reopen_window_start(orgs[accounts[a.account_id].org_id], a.at) for a in arrivals)
    threads = Threads(session, pairs, since)
    in_run: dict[MessageKey, tuple[Conversation, int]] = {}  # this run's messages: (conversation, contact)
    rows: list[tuple[Arrival, Conversation, dict[str, Any]]] = []
    for arrival, contact_id in zip(arrivals, contact_ids, strict=True):
        account, event = accounts[arrival.account_id], arrival.event
        sent_at = as_utc(event.sent_at) or arrival.at
        conversation = threads.conversation_for(
            orgs[account.org_id],
            account,
            contact_id,
            event,
            arrival.at,
            _replied_to(session, in_run, account.id, contact_id, event.reply_to_id),
        )
        in_run[(account.id, event.external_id)] = (conversation, contact_id)
        values = message_values(account, event, sent_at, arrival.at)
        values["contact_id"] = contact_id
        rows.append((arrival, conversation, values))
        conversation.last_message_at = max(as_utc(conversation.last_message_at) or sent_at, sent_at)
        conversation.last_inbound_at = sent_at
        if conversation.awaiting_since is None:
            conversation.awaiting_since = sent_at
        if conversation.status == ConversationStatus.PENDING.value:
            conversation.status = ConversationStatus.OPEN.value
            threads.timeline.append(
                TimelineEntry(
                    account.org_id,
                    conversation,
                    "status",
                    "customer answered: pending -> open (SLA clock resumes)",
                    {"from": "pending", "to": "open"},
                    (account.id, event.external_id),
                )
            )
    session.flush()  # the run's new conversations get their ids; its changes to others go out
    for _arrival, conversation, values in rows:
        values["conversation_id"] = conversation.id
    message_ids = intake_repository.insert_messages(session, [values for _, _, values in rows])
    if len(message_ids) != len(rows):
        # A concurrent delivery of one of these events won the race: the caller undoes the run.
        raise Duplicate()
    intake_repository.insert_work(
        session,
        [
            {
                "org_id": conversation.org_id,
                "conversation_id": conversation.id,
                "message_id": message_ids[(arrival.account_id, arrival.event.external_id)],
                "state": queue.PENDING,
                "attempts": 0,
                "available_at": arrival.at,
                "created_at": arrival.at,
            }
            for arrival, conversation, _ in rows
        ],
    )
    queue.insert_timeline(
        session,
        [
            {
                "org_id": entry.org_id,
                "conversation_id": entry.conversation.id,
                "message_id": message_ids.get(entry.message_key) if entry.message_key else None,
                "kind": entry.kind,
                "reason": entry.reason,
                "data": entry.data,
            }
            for entry in threads.timeline
        ],
    )
    made: dict[MessageKey, tuple[Conversation, int]] = {}
    for arrival, conversation, _values in rows:
        key = (arrival.account_id, arrival.event.external_id)
        message_id = message_ids[key]
        made[key] = (conversation, message_id)
        publish_on_commit(
            session,
            MessageAccepted(
                org_id=conversation.org_id, conversation_id=conversation.id, message_id=message_id
            ),
        )
    return made


def _author(account: ChannelAccount, event: InboundEvent) -> Author:
    author = event.author_id or "unknown"
    return Author(
        org_id=account.org_id,
        network=account.network,
        external_user_id=author,
        handle=event.author_handle,
        display_name=event.author_name or event.author_handle or author,
        followers=event.author_followers,
        attributes=event.contact_attributes,
    )


def _replied_to(
    session: Session,
    in_run: dict[MessageKey, tuple[Conversation, int]],
    account_id: int,
    contact_id: int,
    reply_to_id: str | None,
) -> Conversation | None:
    """The conversation of the message replied to: the contact's own (also earlier in this run) or one of ours."""
    if not reply_to_id:
        return None
    earlier = in_run.get((account_id, reply_to_id))
    if earlier is not None:
        conversation, author = earlier
        return conversation if author == contact_id else None
    return intake_repository.conversation_replied_to(session, account_id, contact_id, reply_to_id)
