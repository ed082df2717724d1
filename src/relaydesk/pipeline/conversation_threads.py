"""Threading: which conversation an inbound message belongs to, reopened or created as needed.

Reply-to first, then the network's thread, then the same contact on the same account within the
organisation's reopen window; else a new conversation.

`Threads` serves a whole run of events: the candidate conversations of the run's contacts are read
once, and every choice is made in memory and kept in step as the run goes (a second message of
the same customer in the run finds the conversation the first one opened).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.channels.base import InboundEvent
from relaydesk.core.enums import ConversationStatus
from relaydesk.core.timeutil import as_utc
from relaydesk.models import ChannelAccount, Conversation, Organization
from relaydesk.pipeline import intake_repository

NEWEST = 1 << 62  # a conversation made in this run sorts after every stored one
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class TimelineEntry:
    """A timeline row the run writes once its conversations and messages have ids."""

    org_id: int
    conversation: Conversation
    kind: str
    reason: str
    data: dict[str, Any] = field(default_factory=dict)
    message_key: tuple[int, str] | None = None  # (account id, external id) of its message


def reopen_window_start(org: Organization, now: datetime) -> datetime:
    return now - timedelta(hours=org.reopen_window_hours)


class Threads:
    """The conversations of a run's (account, contact) pairs, chosen and made in memory."""

    def __init__(self, session: Session, pairs: set[tuple[int, int]], since: datetime | None) -> None:
        self.session = session
        self.timeline: list[TimelineEntry] = []
        self._by_pair: dict[tuple[int, int], list[Conversation]] = {}
        self._made: dict[int, int] = {}  # id() of a conversation made here -> its order
        if pairs and since is not None:
            for conversation in intake_repository.recent_conversations(session, pairs, since):
                self._by_pair.setdefault((conversation.account_id, conversation.contact_id), []).append(
                    conversation
                )

    def conversation_for(
        self,
        org: Organization,
        account: ChannelAccount,
        contact_id: int,
        event: InboundEvent,
        now: datetime,
        replied_to: Conversation | None = None,
    ) -> Conversation:
        """Reply-to first (found by the caller), then the network thread, then the same contact
        on the same account within the reopen window; else a new conversation."""
        conversation = replied_to
        how = f"reply to message {event.reply_to_id}"
        if conversation is None:
            conversation = self._recent(
                account.id, contact_id, reopen_window_start(org, now), event.thread_id
            )
            how = "same contact and account within the reopen window"
        if conversation is None:
            return self._new(org, account, contact_id, event, now)
        if conversation.status == ConversationStatus.RESOLVED.value:
            conversation.status = ConversationStatus.REOPENED.value
            conversation.resolved_at = None
            self._status(
                org,
                conversation,
                f"customer wrote again ({how}): resolved -> reopened",
                "resolved",
                "reopened",
            )
        elif conversation.status == ConversationStatus.SNOOZED.value:
            conversation.status = ConversationStatus.OPEN.value
            conversation.snoozed_until = None
            self._status(
                org, conversation, "customer wrote while snoozed: snoozed -> open", "snoozed", "open"
            )
        return conversation

    def _status(
        self, org: Organization, conversation: Conversation, reason: str, before: str, after: str
    ) -> None:
        self.timeline.append(
            TimelineEntry(org.id, conversation, "status", reason, {"from": before, "to": after})
        )

    def _recent(
        self, account_id: int, contact_id: int, since: datetime, thread_id: str | None
    ) -> Conversation | None:
        """The contact's latest conversation on the account since `since` (same network thread)."""
        best: Conversation | None = None
        best_key: tuple[datetime, int] | None = None
        for conversation in self._by_pair.get((account_id, contact_id), []):
            last = as_utc(conversation.last_message_at) or EPOCH
            if last < since:
                continue
            if thread_id and conversation.thread_key not in (thread_id, None):
                continue
            made = self._made.get(id(conversation))
            key = (last, NEWEST + made if made is not None else conversation.id)
            if best_key is None or key > best_key:
                best, best_key = conversation, key
        return best

    def _new(
        self, org: Organization, account: ChannelAccount, contact_id: int, event: InboundEvent, now: datetime
    ) -> Conversation:
        sent_at = as_utc(event.sent_at) or now
        conversation = Conversation(
            org_id=org.id,
            account_id=account.id,
            location_id=account.location_id,
            contact_id=contact_id,
            network=account.network,
            thread_key=event.thread_id,
            subject=" ".join(event.text.split())[:120],
            status=ConversationStatus.NEW.value,
            last_message_at=sent_at,
            # What the message sets on its conversation, set here: no UPDATE right after the INSERT.
            last_inbound_at=sent_at,
            awaiting_since=sent_at,
            # When the customer started it, not when we stored it: imports and delayed webhooks
            # keep their real place in reports and staffing.
            created_at=min(sent_at, now),
            tags=[],
        )
        self.session.add(conversation)
        self._made[id(conversation)] = len(self._made)
        self._by_pair.setdefault((account.id, contact_id), []).append(conversation)
        self.timeline.append(
            TimelineEntry(
                org.id,
                conversation,
                "created",
                f"new conversation from {account.network} account '{account.key}'",
                {"network": account.network, "account": account.key},
            )
        )
        return conversation
