"""What agents do with conversations: read, reply, note, assign, transfer, change status.

The one entry point for the API, the web pages, the CLI and the workers. Each use case lives in
its own module (reading, replying, held_replies, notes, handoff, status, corrections,
collisions); this class holds their collaborators and hands each call on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import (
    bulk,
    canned,
    choices,
    collisions,
    corrections,
    handoff,
    held_replies,
    macros,
    notes,
    reading,
    replying,
    saved_views,
    status,
    tagging,
)
from relaydesk.conversations import repository as repo
from relaydesk.conversations.attachments import Upload
from relaydesk.conversations.filters import ConversationFilters
from relaydesk.conversations.presence import PresenceRegistry
from relaydesk.conversations.schemas import (
    ApprovalOut,
    BulkItemOut,
    BulkParams,
    CannedOut,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    MacroOut,
)
from relaydesk.db import reading as db_reading
from relaydesk.models import Department, MediaFile
from relaydesk.pipeline.bus.base import Bus
from relaydesk.routing.service import RoutingService
from relaydesk.sla.service import SlaService


class ConversationService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        bus: Bus,
        routing: RoutingService | None = None,
        sla: SlaService | None = None,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.routing = routing or RoutingService()
        self.sla = sla or SlaService()
        self.presence = PresenceRegistry()

    # -- reads ----------------------------------------------------------------------------------

    def page(
        self, scope: Scope, filters: ConversationFilters, cursor: str | None = None, limit: int = 50
    ) -> ConversationPage:
        return reading.page(self, scope, filters, cursor, limit)

    def detail(self, scope: Scope, conversation_id: int) -> ConversationDetail:
        return reading.detail(self, scope, conversation_id)

    # -- saved inbox views --------------------------------------------------------------------------

    def views(self, scope: Scope) -> list[saved_views.View]:
        """The caller's saved views and those shared in the organisation."""
        return saved_views.list_views(self, scope)

    def save_view(
        self, scope: Scope, name: str, filters: dict[str, object], shared: bool = False
    ) -> saved_views.View:
        return saved_views.save_view(self, scope, name, filters, shared)

    def delete_view(self, scope: Scope, view_id: int) -> None:
        saved_views.delete_view(self, scope, view_id)

    def mark_read(self, scope: Scope, conversation_id: int) -> None:
        """The caller has seen the conversation as it is now: its inbox row is no longer unread."""
        reading.mark_read(self, scope, conversation_id)

    def visible_ids(self, scope: Scope, ids: Iterable[int]) -> set[int]:
        """Which of these conversations the caller may see: the live push asks before each signal."""
        with db_reading(self.sessions) as session:
            return repo.visible_ids(session, scope, ids)

    def touch_presence(self, scope: Scope, conversation_id: int, state: str) -> list[dict[str, str]]:
        return collisions.touch_presence(self, scope, conversation_id, state)

    def present(self, conversation_id: int, user_id: int) -> list[dict[str, str]]:
        return collisions.present(self, conversation_id, user_id)

    def check_reply(self, scope: Scope, conversation_id: int, text: str) -> dict[str, Any]:
        """Guideline findings for a draft, and approved FAQ answers for the customer's last message."""
        return replying.check_reply(self, scope, conversation_id, text)

    def faq_answers(self, scope: Scope, conversation_id: int) -> list[dict[str, Any]]:
        """Approved FAQ answers for the customer's last message."""
        return replying.faq_answers(self, scope, conversation_id)

    def canned(self, scope: Scope, conversation_id: int) -> list[CannedOut]:
        """The saved replies the caller may use here, in the conversation's language, names filled."""
        return canned.canned(self, scope, conversation_id)

    def held_reply(self, scope: Scope, conversation_id: int, message_id: int) -> ApprovalOut | None:
        """Whether the reply waits for approval, and for whom (None once it is on its way)."""
        return held_replies.held_reply(self, scope, conversation_id, message_id)

    def departments(self, scope: Scope) -> list[Department]:
        return choices.departments(self, scope)

    def agents(self, department_id: int | None) -> list[dict[str, Any]]:
        """Who can answer in a department, with their open load: the assign menu."""
        return choices.agents(self, department_id)

    def intent_names(self, scope: Scope) -> list[str]:
        return choices.intent_names(self, scope)

    # -- writes ---------------------------------------------------------------------------------

    def reply(
        self,
        scope: Scope,
        conversation_id: int,
        text: str,
        *,
        set_pending: bool = False,
        idempotency_key: str | None = None,
        template: str | None = None,
        override_guidelines: bool = False,
        last_seen_message_id: int | None = None,
        force: bool = False,
        template_params: list[str] | None = None,
        files: list[Upload] | None = None,
    ) -> tuple[ConversationOut, int]:
        return replying.reply(
            self,
            scope,
            conversation_id,
            text,
            set_pending=set_pending,
            idempotency_key=idempotency_key,
            template=template,
            override_guidelines=override_guidelines,
            last_seen_message_id=last_seen_message_id,
            force=force,
            template_params=template_params,
            files=files,
        )

    def attachment(self, scope: Scope, message_id: int, index: int) -> dict[str, Any]:
        """One attachment of a message the caller may see (NotFound otherwise)."""
        return replying.attachment(self, scope, message_id, index)

    def media(self, scope: Scope, media_id: int) -> MediaFile:
        """A file attached to a reply, if the caller sees its conversation (else NotFound)."""
        return replying.media(self, scope, media_id)

    def reply_window(self, scope: Scope, conversation_id: int) -> dict[str, Any]:
        """Whether free text may be sent now (WhatsApp's 24 hours) and the templates if not."""
        return replying.reply_window(self, scope, conversation_id)

    def review_draft(
        self, scope: Scope, conversation_id: int, message_id: int, approve: bool, text: str | None = None
    ) -> ConversationOut:
        """An approver the hold names approves (optionally editing) or rejects a held reply."""
        return held_replies.review_draft(self, scope, conversation_id, message_id, approve, text)

    def note(self, scope: Scope, conversation_id: int, text: str) -> tuple[ConversationOut, int]:
        return notes.note(self, scope, conversation_id, text)

    def assign(self, scope: Scope, conversation_id: int, assignee_id: int | None) -> ConversationOut:
        return handoff.assign(self, scope, conversation_id, assignee_id)

    def transfer(self, scope: Scope, conversation_id: int, department_key: str, note: str) -> ConversationOut:
        """Hand-off to another department with a note: no email ping-pong between teams."""
        return handoff.transfer(self, scope, conversation_id, department_key, note)

    def change_status(
        self, scope: Scope, conversation_id: int, action: str, until: datetime | None = None
    ) -> ConversationOut:
        return status.change_status(self, scope, conversation_id, action, until)

    def change_priority(self, scope: Scope, conversation_id: int, priority: str) -> ConversationOut:
        return macros.change_priority(self, scope, conversation_id, priority)

    def run_macro(
        self, scope: Scope, conversation_id: int, key: str, *, reply_held: bool = False
    ) -> MacroOut:
        """A saved reply's other changes (status, tags, priority, hand-off), after its reply."""
        return macros.run_macro(self, scope, conversation_id, key, reply_held=reply_held)

    def change_tags(
        self, scope: Scope, conversation_id: int, add: list[str], remove: list[str]
    ) -> ConversationOut:
        """Add and remove an agent's tags (routing's `team:` and `skill:` tags are not theirs to set)."""
        return tagging.change_tags(self, scope, conversation_id, add, remove)

    def bulk(self, scope: Scope, ids: list[int], action: str, params: BulkParams) -> list[BulkItemOut]:
        """One action (resolve, assign, transfer) over many conversations; per-id results."""
        return bulk.bulk(self, scope, ids, action, params)

    def correct(
        self, scope: Scope, conversation_id: int, message_id: int, field: str, value: str | None
    ) -> ConversationOut:
        """An agent corrects language, sentiment or intent; it is stored and becomes an example."""
        return corrections.correct(self, scope, conversation_id, message_id, field, value)

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        """Housekeeping run every few seconds: wake snoozed conversations, SLA warnings/breaches."""
        return status.tick(self, now)
