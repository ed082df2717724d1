"""Contacts, conversations, messages and the timeline of what happened to them."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relaydesk.core.media import MEDIA_TYPES
from relaydesk.core.timeutil import utcnow
from relaydesk.models.base import Base


class Contact(Base):
    """One person, whatever networks they write from. Merging points one at another."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # vip, followers, purchases
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactIdentity(Base):
    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("org_id", "network", "external_user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    network: Mapped[str] = mapped_column(String(32))
    external_user_id: Mapped[str] = mapped_column(String(256))
    handle: Mapped[str | None] = mapped_column(String(256))


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_scope", "org_id", "department_id", "status"),
        Index("ix_conversations_thread", "account_id", "contact_id", "last_message_at"),
        Index("ix_conversations_org_activity", "org_id", "last_message_at", "id"),
        # A person scoped to a few locations of a large chain reads their inbox through this one
        # (`relaydesk bench scope`: ~10x faster for a one-shop agent at 1,000 locations).
        Index("ix_conversations_location_activity", "location_id", "last_message_at", "id"),
        # The report refresher finds what changed since its last pass through this one.
        Index("ix_conversations_updated", "updated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    network: Mapped[str] = mapped_column(String(32))
    thread_key: Mapped[str | None] = mapped_column(String(256), index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    snoozed_until: Mapped[datetime | None] = mapped_column()
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    # The routed decision: the reading the conversation was routed on (its first triaged message),
    # kept while later messages come in; an agent's correction of that message changes it.
    sentiment: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    # The newest customer message's reading, shown as such beside the routed decision.
    latest_sentiment: Mapped[str | None] = mapped_column(String(16))
    latest_intent: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[str | None] = mapped_column(String(16))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    first_response_due: Mapped[datetime | None] = mapped_column()
    next_response_due: Mapped[datetime | None] = mapped_column()
    resolution_due: Mapped[datetime | None] = mapped_column()
    first_response_at: Mapped[datetime | None] = mapped_column()
    awaiting_since: Mapped[datetime | None] = mapped_column()  # oldest unanswered inbound
    # Set when the warning / breach of the response currently owed was raised; reset on reply.
    sla_warned_at: Mapped[datetime | None] = mapped_column()
    sla_breached_at: Mapped[datetime | None] = mapped_column()
    # Pending on the customer pauses the clocks: when it started, and the owed response's due
    # time at that moment (moved aside so nothing warns or breaches while paused).
    sla_paused_at: Mapped[datetime | None] = mapped_column()
    sla_paused_next_due: Mapped[datetime | None] = mapped_column()
    # Arrival to first response counted by the location's business hours (the KPI's input).
    first_response_business_seconds: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None] = mapped_column()
    last_inbound_at: Mapped[datetime | None] = mapped_column()
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    transfer_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # A redelivered webhook lands on the row we have: the idempotency key of ingestion.
        UniqueConstraint("account_id", "external_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(16))  # inbound|outbound|note
    kind: Mapped[str] = mapped_column(String(16), default="message")
    external_id: Mapped[str | None] = mapped_column(String(256))
    thread_external_id: Mapped[str | None] = mapped_column(String(256), index=True)
    reply_to_external_id: Mapped[str | None] = mapped_column(String(256))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    processed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)  # when the author sent it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationRead(Base):
    """How far a person has read a conversation: the inbox marks it unread when the customer
    wrote after that."""

    __tablename__ = "conversation_reads"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    read_message_id: Mapped[int | None] = mapped_column(Integer)  # the newest message when it was read
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedView(Base):
    """An inbox view someone saved: its filters and order (`filters`, the inbox's own parameters).

    Shared views are listed for everyone of the organisation; what each person then sees is still
    their own scope, so sharing a view never shares conversations.
    """

    __tablename__ = "saved_views"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TimelineEvent(Base):
    """Who (or which rule) did what to a conversation, and why: decisions are stored with reasons."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_conversation", "conversation_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))  # triage|route|assign|sla|transfer|status|reply|note
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxItem(Base):
    """A reply waiting to be sent; the idempotency key survives a crash between send and record.

    Two keys, two scopes. `idempotency_key` is ours, unique in the installation and handed to the
    networks (LINE's retry key, the e-mail Message-ID, Messenger's metadata...), so two replies
    never share one there. `request_key` is the caller's `Idempotency-Key` header, meaningful
    only within its organisation and conversation: another organisation (or conversation) using
    the same string makes its own reply.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index(
            "uq_outbox_org_conversation_request_key", "org_id", "conversation_id", "request_key", unique=True
        ),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    request_key: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaRecord(Base):
    """Every SLA target met or breached, for reports (first response, next response, resolution)."""

    __tablename__ = "sla_records"
    __table_args__ = (Index("ix_sla_records_org_time", "org_id", "recorded_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    target: Mapped[str] = mapped_column(String(32))  # first_response|next_response|resolution
    due_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime] = mapped_column()
    met: Mapped[bool] = mapped_column()
    seconds: Mapped[int] = mapped_column(Integer)  # elapsed wall-clock seconds
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """In-app notice for one person: a mention, an escalation, a rule's notify action."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # mention|escalation|rule|approval|crisis
    text: Mapped[str] = mapped_column(Text)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("crisis_alerts.id", ondelete="CASCADE"))
    read_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ListeningQuery(Base):
    """A brand's listening query: mentions of the brand not addressed to our accounts."""

    __tablename__ = "listening_queries"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    brand_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    exclude: Mapped[list[Any]] = mapped_column(JSON, default=list)
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    networks: Mapped[list[Any]] = mapped_column(JSON, default=list)  # x, instagram, ...
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # per network since-id
    active: Mapped[bool] = mapped_column(default=True)


class ListeningItem(Base):
    """A public mention found by a listening query; an agent may turn it into a conversation."""

    __tablename__ = "listening_items"
    __table_args__ = (UniqueConstraint("query_id", "network", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("listening_queries.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(256))
    author_id: Mapped[str] = mapped_column(String(256))
    author_handle: Mapped[str | None] = mapped_column(String(256))
    author_followers: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(1000))
    language: Mapped[str | None] = mapped_column(String(8))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new|dismissed|converted
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingMention(Base):
    """An @mention whose text and author must be fetched from the network before it is a message.

    Instagram's ``mentions`` webhook carries only ids. The webhook stores this row and answers;
    a background worker fetches the details and hands the complete message to the pipeline, then
    deletes the row. Until then the row is the mention (``pending``, retried with back-off);
    ``failed`` keeps one the network says it will never describe (deleted, private), with why.
    """

    __tablename__ = "pending_mentions"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_pending_mentions_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(256))  # the comment id, or the media id
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the webhook's part, as sent
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|fetching|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebchatVisitor(Base):
    """A web-chat visitor kept across page loads by a signed token in the browser."""

    __tablename__ = "webchat_visitors"
    __table_args__ = (UniqueConstraint("account_id", "visitor_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    visitor_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class IgnoredEvent(Base):
    """A webhook event RelayDesk does not act on (unknown type, half-parsed part), kept raw.

    Networks add event types without notice; keeping the raw event lets an operator see what was
    dropped and replay it once a parser exists, instead of losing it to a log line.
    """

    __tablename__ = "ignored_events"
    __table_args__ = (Index("ix_ignored_events_org_received", "org_id", "received_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id", ondelete="SET NULL"))
    network: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(128))  # e.g. "line:unsend", "meta:page:feed:share"
    reason: Mapped[str] = mapped_column(String(500))  # "unknown event type", the parse error, ...
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class MediaFile(Base):
    """A file an agent attached to a reply, kept in the database so every process (the API, the
    outbox workers on other machines) reads the same bytes. Served only to people who see its
    conversation (`/media/{id}`), and sent by the networks that take files."""

    __tablename__ = "media_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # image|audio|video|file
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def holding(
        cls,
        data: bytes,
        mime_type: str,
        *,
        org_id: int,
        conversation_id: int,
        name: str,
        uploaded_by: int | None = None,
    ) -> MediaFile:
        """A row for `data` of a type core.media keeps; its kind, size and digest follow from it."""
        return cls(
            org_id=org_id,
            conversation_id=conversation_id,
            name=name[:200],
            mime_type=mime_type,
            kind=MEDIA_TYPES[mime_type],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            uploaded_by=uploaded_by,
        )
