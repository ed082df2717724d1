"""API shapes of conversations, messages and the actions agents take on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Ref(BaseModel):
    id: int
    key: str | None = None
    name: str | None = None


class SlaOut(BaseModel):
    state: str
    first_response_due: datetime | None
    next_response_due: datetime | None
    resolution_due: datetime | None
    first_response_at: datetime | None
    paused_since: datetime | None = Field(
        default=None, description="pending on the customer since then: the clocks stand still"
    )


class ConversationOut(BaseModel):
    id: int
    status: str
    priority: str
    subject: str
    network: str
    account: Ref
    location: Ref
    contact: Ref
    department: Ref | None
    assignee: Ref | None
    language: str | None
    sentiment: str | None = Field(description="the sentiment the conversation was routed on (kept)")
    intent: str | None = Field(description="the intent the conversation was routed on (kept)")
    latest_sentiment: str | None = Field(
        default=None, description="the newest customer message's sentiment (each message has its own)"
    )
    latest_intent: str | None = Field(default=None, description="the newest customer message's intent")
    stage: str | None
    urgency: str | None
    tags: list[str]
    sla: SlaOut
    snoozed_until: datetime | None
    last_message_at: datetime
    created_at: datetime
    last_message: str | None = Field(
        default=None, description="the newest message's text as the inbox shows it (pages of the inbox only)"
    )
    last_message_direction: str | None = Field(default=None, description="inbound or outbound")
    unread: bool | None = Field(
        default=None,
        description="whether the customer wrote since the caller last opened the conversation (pages only)",
    )


class ApprovalOut(BaseModel):
    """Why a reply waits for approval and who may release it."""

    reason: str
    approvers: list[str] = Field(description="roles (manager, admin, owner) and @handles named by the hold")
    waiting_for: str = Field(description="the approvers as a sentence, e.g. '@hannah or a manager'")
    people: list[str] = Field(description="the @handles who can approve it now")
    can_approve: bool = Field(description="whether the caller may approve or reject it")
    why_not: str | None = Field(default=None, description="why the caller may not")

    def sentence(self) -> str:
        """'waits for approval by @hannah or a manager (@nora, @ada): <reason>'."""
        people = f" ({', '.join(self.people)})" if self.people else " (nobody can approve it yet)"
        return f"waits for approval by {self.waiting_for}{people}: {self.reason}"


class MessageOut(BaseModel):
    id: int
    direction: str
    kind: str
    text: str
    author: str
    external_id: str | None
    attachments: list[dict[str, Any]]
    delivery_status: str | None
    delivery_error: str | None
    triage: dict[str, Any] | None
    sent_at: datetime
    approval: ApprovalOut | None = Field(default=None, description="set while the reply waits for approval")
    automatic: str | None = Field(
        default=None, description="away or faq: RelayDesk sent it by itself (the account's automatic answers)"
    )


class TimelineOut(BaseModel):
    kind: str
    reason: str
    actor: str | None
    data: dict[str, Any]
    at: datetime


class ConversationDetail(BaseModel):
    conversation: ConversationOut
    messages: list[MessageOut]
    timeline: list[TimelineOut]
    present: list[dict[str, str]] = Field(default_factory=list, description="colleagues viewing or typing")


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    set_pending: bool = Field(default=False, description="wait for the customer (pauses the SLA clock)")
    template: str | None = Field(default=None, description="approved template name (WhatsApp outside 24h)")
    template_params: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="the template's values for {{1}}, {{2}}... in order; with the account's template "
        "text known, the reply's stored text is that text filled in",
    )
    last_seen_message_id: int | None = Field(
        default=None, description="the newest message the agent saw; a colleague's newer reply stops this one"
    )
    force: bool = Field(default=False, description="send even though a colleague replied or is typing")
    override_guidelines: bool = Field(
        default=False, description="send despite blocking guideline findings: the reply then needs approval"
    )
    macro: str | None = Field(
        default=None,
        max_length=65,
        description="a saved reply's key: after the reply, its actions (status, tags, priority, hand-off) apply",
    )


class PresenceIn(BaseModel):
    state: str = Field(description="viewing or typing")


class CheckIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class ReviewIn(BaseModel):
    text: str | None = Field(
        default=None, max_length=20_000, description="edited text, or the rejection reason"
    )


class CorrectionIn(BaseModel):
    field: str = Field(description="lang, sentiment or intent")
    value: str | None = Field(max_length=64, description="the right value (intent may be null)")


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class AssignIn(BaseModel):
    assignee_id: int | None = Field(description="the agent to assign, or null to put it back in the queue")


class TransferIn(BaseModel):
    department: str = Field(min_length=1, description="department key")
    note: str = Field(min_length=1, max_length=20_000, description="the hand-off note for the new team")


class PriorityIn(BaseModel):
    priority: str = Field(description="low, normal, high or urgent")


class TagsIn(BaseModel):
    add: list[str] = Field(
        default_factory=list, max_length=20, description="tags to add (at most 40 characters each)"
    )
    remove: list[str] = Field(default_factory=list, max_length=20, description="tags to remove (any case)")


class SnoozeIn(BaseModel):
    until: datetime


class MacroActions(BaseModel):
    """What sending a saved reply also changes; all empty for a plain saved reply."""

    status: str | None = Field(default=None, description="pending or resolved")
    tags: list[str] = Field(default_factory=list, description="tags added")
    priority: str | None = Field(default=None, description="low, normal, high or urgent")
    transfer: str | None = Field(default=None, description="the department key it is handed to")

    def empty(self) -> bool:
        return not (self.status or self.tags or self.priority or self.transfer)


class MacroOut(BaseModel):
    """What a macro changed, and what it left for later (a reply held for approval)."""

    applied: list[str] = Field(description="status, tags, priority, transfer: the parts that were applied")
    skipped: list[str] = Field(description="the parts not applied because the reply waits for approval")
    actions: MacroActions = Field(description="the macro's actions as configured")
    conversation: ConversationOut


class ActionOut(BaseModel):
    conversation: ConversationOut
    message_id: int | None = None
    detail: str = ""
    approval: ApprovalOut | None = Field(default=None, description="set when the reply is held for approval")
    macro: MacroOut | None = Field(default=None, description="what the reply's macro changed, if it had one")


BULK_LIMIT = 200  # one inbox page is 50; a bound keeps one request from locking a whole queue


class BulkParams(BaseModel):
    assignee_id: int | None = Field(default=None, description="assign: the agent, or null for the queue")
    department: str | None = Field(default=None, description="transfer: the department key")
    note: str | None = Field(default=None, max_length=20_000, description="transfer: the hand-off note")
    tag: str | None = Field(default=None, max_length=200, description="tag: the tag to add")


class BulkIn(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=BULK_LIMIT, description="conversation ids")
    action: Literal["resolve", "assign", "transfer", "tag"]
    params: BulkParams = Field(default_factory=BulkParams)


class BulkItemOut(BaseModel):
    id: int
    ok: bool
    error: str | None = Field(default=None, description="why this conversation was not changed")


class BulkOut(BaseModel):
    done: int
    refused: int
    results: list[BulkItemOut]


class CannedOut(BaseModel):
    """A saved reply ready to insert: its text in the chosen language, variables filled."""

    key: str = Field(description="the shortcut: `/key` in the reply box inserts it")
    title: str
    language: str = Field(description="the language variant chosen for this conversation")
    text: str = Field(description="the text with the customer's, the agent's and the location's names filled")
    actions: MacroActions = Field(
        default_factory=lambda: MacroActions(), description="what sending it also changes (a macro)"
    )


class SavedViewIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    filters: dict[str, str] = Field(
        description='the inbox\'s parameters, e.g. {"sentiment": "negative", "sort": "due"}'
    )
    shared: bool = Field(default=False, description="listed for everyone of the organisation")


class SavedViewOut(BaseModel):
    id: int
    name: str
    filters: dict[str, str]
    shared: bool
    mine: bool = Field(description="saved by the caller")
    url: str = Field(description="the inbox address that shows it")

    @classmethod
    def of(cls, view: Any) -> SavedViewOut:
        return cls(
            id=view.id, name=view.name, filters=view.filters, shared=view.shared, mine=view.mine, url=view.url
        )


class CannedIn(BaseModel):
    """A saved reply as written on its settings page; without `actions` a macro's stay as they are."""

    title: str = Field(min_length=1, max_length=200)
    texts: dict[str, str] = Field(description="{language: text}; at least one")
    departments: list[str] = Field(default_factory=list, max_length=100)
    actions: MacroActions | None = Field(
        default=None, description="what sending it also does; absent: keep the stored ones, {}: none"
    )


class CannedEntryOut(BaseModel):
    """A saved reply as stored (texts unfilled), with whether the caller may change it."""

    key: str
    title: str
    texts: dict[str, str]
    departments: list[str]
    actions: MacroActions
    editable: bool = False
