"""The generic signed webhook: review sites, forms and anything without a module of its own.

Inbound body: one message object or a batch ``{"messages": [...]}``; see ``GenericMessage``.

Signing (both directions): ``X-RelayDesk-Signature: sha256=<hex HMAC-SHA256(secret, signed)>``.
Without ``X-RelayDesk-Timestamp`` the signed bytes are the raw body. With it (unix seconds), the
signed bytes are ``b"<timestamp>." + raw body`` and requests more than five minutes away from
our clock are refused: the timestamp has to be inside the signature, otherwise anyone holding a
captured request could replay it forever by just rewriting the header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from relaydesk.channels import http
from relaydesk.channels.base import (
    Attachment,
    InboundEvent,
    OutboundRequest,
    ParsedEvent,
    ParseResult,
    SendResult,
    SignatureError,
)
from relaydesk.channels.channel import Channel, NetworkSpec

NETWORK = "generic"
SIGNATURE_HEADER = "X-RelayDesk-Signature"
TIMESTAMP_HEADER = "X-RelayDesk-Timestamp"
MAX_CLOCK_SKEW_S = 300


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The value of the signature header for `body` (and `timestamp`, when one is sent)."""
    signed = body if timestamp is None else f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, secret: str, now: float | None = None) -> dict[str, str]:
    """Headers for an outgoing signed request, timestamp included."""
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(body, secret, timestamp),
    }


def verify(body: bytes, headers: Mapping[str, str], secret: str, now: float | None = None) -> None:
    """Raise SignatureError (401 missing, 403 wrong or stale) unless `body` is signed with `secret`."""
    given = http.header(headers, SIGNATURE_HEADER)
    if not given:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header", 401)
    raw_ts = http.header(headers, TIMESTAMP_HEADER)
    timestamp: int | None = None
    if raw_ts is not None:
        try:
            timestamp = int(raw_ts.strip())
        except ValueError:
            raise SignatureError(f"{TIMESTAMP_HEADER} is not unix seconds", 403) from None
        current = time.time() if now is None else now
        if abs(current - timestamp) > MAX_CLOCK_SKEW_S:
            raise SignatureError(f"{TIMESTAMP_HEADER} is more than 5 minutes off", 403)
    expected = sign(body, secret, timestamp)
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise SignatureError("signature does not match", 403)


AttachmentKind = Literal["image", "video", "audio", "file", "sticker", "location", "other"]


class GenericAuthor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    name: str | None = None
    handle: str | None = None
    followers: int | None = Field(default=None, ge=0)


class GenericAttachment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: AttachmentKind = "other"
    url: str | None = None
    name: str | None = None


class GenericMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    author: GenericAuthor
    text: str
    thread_id: str | None = None
    reply_to: str | None = None
    sent_at: datetime | None = None
    attachments: list[GenericAttachment] = Field(default_factory=list)
    lang: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    kind: Literal["message", "comment", "post", "mention", "dm", "review"] = "message"


def _loc_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "body"


def _validation_errors(prefix: str, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        msg = err["msg"]
        out.append(f"{_loc_path(prefix, tuple(err['loc']))}: {msg[:1].lower()}{msg[1:]}")
    return out


def _to_event(msg: GenericMessage, raw: dict[str, Any]) -> InboundEvent:
    sent_at = msg.sent_at
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    return InboundEvent(
        network=NETWORK,
        external_id=msg.id,
        author_id=msg.author.id,
        text=msg.text,
        author_name=msg.author.name,
        author_handle=msg.author.handle,
        sent_at=sent_at.astimezone(UTC) if sent_at else None,
        thread_id=msg.thread_id,
        reply_to_id=msg.reply_to,
        kind=msg.kind,
        attachments=[Attachment(kind=a.kind, url=a.url, name=a.name) for a in msg.attachments],
        raw=raw,
        author_followers=msg.author.followers,
        contact_attributes=dict(msg.attributes),
        lang_hint=msg.lang,
    )


def parse(body: bytes | dict[str, Any], account_ref: str | None = None) -> ParseResult:
    """Validate each message on its own, so one bad item in a batch does not drop the rest.

    The body names no account: the endpoint knows it from the URL and may pass `account_ref`.
    """
    data = http.load_object(body, "generic webhook body", "a JSON object (a message or {'messages': [...]})")
    result = ParseResult()
    if "messages" in data:
        items = data["messages"]
        if not isinstance(items, list):
            result.errors.append("messages: must be a list")
            return result
        entries = [(f"messages[{i}]", item) for i, item in enumerate(items)]
    else:
        entries = [("", data)]
    for path, item in entries:
        if not isinstance(item, dict):
            result.errors.append(f"{path or 'body'}: must be an object")
            continue
        try:
            msg = GenericMessage.model_validate(item)
        except ValidationError as exc:
            result.errors.extend(_validation_errors(path, exc))
            continue
        result.events.append(ParsedEvent(account_ref=account_ref, event=_to_event(msg, item)))
    return result


class GenericSender:
    """POSTs a signed reply to the account's URL.

    credentials: ``{"url": "https://...", "secret": "..."}``. The receiver should treat ``id`` (the
    idempotency key) as the message id, so our retries after a timeout do not post twice.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.timeout = timeout
        self.clock = clock

    async def send(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult:
        url = credentials.get("url")
        secret = credentials.get("secret")
        if not url or not secret:
            return SendResult(ok=False, error="generic account needs 'url' and 'secret'", code="config")
        payload = {
            "id": req.idempotency_key,
            "in_reply_to": req.reply_to_external_id,
            "recipient": req.recipient_id,
            "text": req.text,
        }
        if req.thread_id:
            payload["thread_id"] = req.thread_id
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = signed_headers(body, secret, self.clock())
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return SendResult(ok=False, error="generic endpoint timed out", retryable=True)
        except httpx.TransportError as exc:
            return SendResult(
                ok=False, error=f"generic endpoint unreachable ({type(exc).__name__})", retryable=True
            )
        return self._result(response, req)

    def _result(self, response: httpx.Response, req: OutboundRequest) -> SendResult:
        status = response.status_code
        if 200 <= status < 300:
            external_id = req.idempotency_key
            try:
                data = response.json()
                if isinstance(data, dict) and data.get("id"):
                    external_id = str(data["id"])
            except ValueError:
                pass
            return SendResult(ok=True, external_id=external_id)
        if status == 429:
            return SendResult(
                ok=False,
                error="generic endpoint rate limited",
                retryable=True,
                retry_after=http.retry_after(response, self.clock()),
            )
        if status in (401, 403):
            return SendResult(
                ok=False, error=f"generic endpoint refused our signature ({status})", code="token_expired"
            )
        if status >= 500 or status == 408:
            return SendResult(
                ok=False,
                error=f"generic endpoint error {status}",
                retryable=True,
                retry_after=http.retry_after(response, self.clock()),
            )
        return SendResult(ok=False, error=f"generic endpoint rejected the message ({status})")


CHANNEL = Channel(
    spec=NetworkSpec(
        network=NETWORK,
        send_credentials=("url",),
        webhook_credentials=("webhook_secret",),
        webhook_path="/webhooks/generic/{account_id}",
        server_idempotency=True,  # the receiver is told to treat `id` (our key) as the message id
        aliases={"url": ("outbound_url", "reply_url")},
        # One secret both ways unless the account sets a separate outbound one.
        defaults={"secret": "webhook_secret"},
        note="replies are POSTed to `url`, signed with `secret` (default: webhook_secret)",
        identity="source",
    ),
    verify=lambda body, headers, secret: verify(body, headers, secret),
    parse=lambda body, ref: parse(body, account_ref=ref),
    sender=GenericSender,
    refuse_unparsed=True,
)
