"""A batch of work as the pipeline reads it: its rows and its contacts' other conversations.

Read with one query each for the whole batch, so processing a message costs no reads of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from relaydesk.core.timeutil import as_utc
from relaydesk.models import ChannelAccount, Contact, Conversation, Message
from relaydesk.pipeline import repository as queue

OPEN_STATUSES = ("new", "open", "reopened", "pending")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Batch:
    """A batch's rows and its contacts' other conversations, read with one query each."""

    def __init__(self, message_ids: list[int]) -> None:
        self.message_ids = message_ids
        self.messages: dict[int, Message] = {}
        self.conversations: dict[int, Conversation] = {}
        self.accounts: dict[int, ChannelAccount] = {}
        self.contacts: dict[int, Contact] = {}
        self._history: dict[int, dict[int, queue.ContactConversation]] = {}

    def refresh(self, session: Session) -> None:
        self.messages, self.conversations, self.accounts, self.contacts = queue.load_batch(
            session, self.message_ids
        )
        self._history = {}
        contact_ids = [c.contact_id for c in self.conversations.values() if c.contact_id is not None]
        for row in queue.contact_conversations(session, contact_ids):
            self._history.setdefault(row.contact_id, {})[row.id] = row

    def conversation_of(self, message_id: int) -> Conversation | None:
        message = self.messages.get(message_id)
        return self.conversations.get(message.conversation_id) if message is not None else None

    def _others(self, conversation: Conversation) -> list[queue.ContactConversation]:
        rows = self._history.get(conversation.contact_id, {})
        return [row for row in rows.values() if row.id != conversation.id]

    def history(self, conversation: Conversation) -> tuple[int, int]:
        """The contact's other conversations: (open ones, negative ones)."""
        others = self._others(conversation)
        return (
            sum(1 for row in others if row.status in OPEN_STATUSES),
            sum(1 for row in others if row.sentiment == "negative"),
        )

    def last_agent(self, conversation: Conversation) -> int | None:
        """Who had the contact's most recent other conversation (assignment's sticky agent)."""
        assigned = [row for row in self._others(conversation) if row.assignee_id is not None]
        if not assigned:
            return None
        latest = max(assigned, key=lambda row: (as_utc(row.last_message_at) or EPOCH, row.id))
        return latest.assignee_id

    def remember(self, conversation: Conversation) -> None:
        self._history.setdefault(conversation.contact_id, {})[conversation.id] = queue.ContactConversation(
            id=conversation.id,
            contact_id=conversation.contact_id,
            status=conversation.status,
            sentiment=conversation.sentiment,
            assignee_id=conversation.assignee_id,
            last_message_at=conversation.last_message_at,
        )
