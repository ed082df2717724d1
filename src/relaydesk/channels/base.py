"""What every network module produces: network-neutral inbound events (pure data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from relaydesk.core.safetext import storable_raw, storable_text, storable_values


@dataclass
class Attachment:
    kind: str  # image|video|audio|file|sticker|location|other
    url: str | None = None
    name: str | None = None
    mime_type: str | None = None
    # The network's own id of the file (a WhatsApp media id, a Telegram file_id): what fetching
    # it later needs (channels.inbound_media), where the network gives no address.
    ref: str | None = None


@dataclass
class InboundEvent:
    """One message (or comment, post, mention) as the pipeline accepts it.

    `external_id` is the network's own id for the message: (account, external_id) is unique,
    so a redelivered webhook maps onto the row we already have.
    """

    network: str
    external_id: str
    author_id: str  # the network's id for the author (PSID, wa_id, user id, email address)
    text: str
    author_name: str | None = None
    author_handle: str | None = None
    sent_at: datetime | None = None
    thread_id: str | None = None  # network thread (comment root, email thread, chat id)
    reply_to_id: str | None = None  # external id of the message this one answers
    kind: str = "message"  # message|comment|post|mention|dm|review
    attachments: list[Attachment] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    author_followers: int | None = None
    contact_attributes: dict[str, Any] = field(default_factory=dict)
    lang_hint: str | None = None


@dataclass
class StatusUpdate:
    """A delivery receipt for something we sent (WhatsApp statuses, LINE/Telegram results, ...)."""

    network: str
    external_id: str  # the network's id of OUR outbound message
    status: str  # sent|delivered|read|failed
    error: str | None = None
    at: datetime | None = None
    recipient_id: str | None = None
    account_ref: str | None = None


@dataclass
class ParsedEvent:
    """An inbound event plus the network-side id of the account it was addressed to.

    One Meta webhook carries events for many pages / IG users / phone numbers; `account_ref`
    lets the endpoint find our ChannelAccount by (network, external_id).
    """

    account_ref: str | None
    event: InboundEvent
    action: str = "create"  # create|edit|delete|reaction|echo|needs_details


# The webhook carried ids only (Instagram @mentions): the event is held until a background fetch
# of its text and author completes (channels/mentions.py), never accepted half empty.
NEEDS_DETAILS = "needs_details"


@dataclass
class ParseResult:
    events: list[ParsedEvent] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # unknown event types, kept raw, logged
    errors: list[str] = field(default_factory=list)  # parts that did not parse, reported


class SignatureError(Exception):
    """The request is not from the network (bad or missing signature / secret token)."""

    def __init__(self, message: str, status_code: int = 401) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class OutboundFile:
    """A file the agent attached to the reply (its bytes, read from the database)."""

    name: str
    mime_type: str
    kind: str  # image|audio|video|file
    data: bytes


@dataclass
class OutboundRequest:
    """What a sender needs to post one reply on the customer's network."""

    network: str
    account_external_id: str | None  # page id, phone-number id, bot id, ...
    recipient_id: str  # PSID / wa_id / chat id / user id / email address
    text: str
    idempotency_key: str
    reply_to_external_id: str | None = None  # comment id, tweet id, message id, reply token
    thread_id: str | None = None
    mode: str = "message"  # message|comment_reply|mention_reply|private_reply|template|dm|post_reply
    template: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    files: list[OutboundFile] = field(default_factory=list)


@dataclass
class SendResult:
    ok: bool
    external_id: str | None = None
    error: str | None = None
    retryable: bool = False  # 429 / 5xx / timeouts: try again later
    retry_after: float | None = None  # seconds, from Retry-After or the network's own hint
    # A refusal the agent must act on (expired token, WhatsApp window closed, ...).
    code: str | None = None


def _storable_optional(value: str | None) -> str | None:
    return None if value is None else storable_text(value)


def storable_event(event: InboundEvent) -> InboundEvent:
    """The event as every database can store it (see `relaydesk.core.safetext`)."""
    return replace(
        event,
        external_id=storable_text(event.external_id),
        author_id=storable_text(event.author_id),
        text=storable_text(event.text),
        author_name=_storable_optional(event.author_name),
        author_handle=_storable_optional(event.author_handle),
        thread_id=_storable_optional(event.thread_id),
        reply_to_id=_storable_optional(event.reply_to_id),
        kind=storable_text(event.kind),
        attachments=[
            replace(
                a,
                kind=storable_text(a.kind),
                url=_storable_optional(a.url),
                name=_storable_optional(a.name),
                mime_type=_storable_optional(a.mime_type),
                ref=_storable_optional(a.ref),
            )
            for a in event.attachments
        ],
        raw=storable_raw(event.raw),
        contact_attributes=storable_values(event.contact_attributes),
        lang_hint=_storable_optional(event.lang_hint),
    )


_EVENT_FIELDS = tuple(f.name for f in fields(InboundEvent))


def event_to_json(event: InboundEvent) -> dict[str, Any]:
    """The event as a JSON object, to keep it in the intake queue until it becomes a message.

    Shallow: the values are serialised on insert, and `asdict`'s deep copy of the raw payload was
    half the cost of appending an event (cProfile of `staging.write`).
    """
    data = {name: getattr(event, name) for name in _EVENT_FIELDS}
    data["attachments"] = [asdict(a) for a in event.attachments]
    data["sent_at"] = event.sent_at.isoformat() if event.sent_at is not None else None
    return data


def event_from_json(data: dict[str, Any]) -> InboundEvent:
    """The inverse of `event_to_json`; raises ValueError or TypeError on a row it did not write."""
    values = dict(data)
    sent_at = values.get("sent_at")
    values["sent_at"] = datetime.fromisoformat(sent_at) if isinstance(sent_at, str) else None
    values["attachments"] = [Attachment(**a) for a in values.get("attachments") or []]
    return InboundEvent(**values)
