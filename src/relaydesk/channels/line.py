"""LINE Messaging API: X-Line-Signature, webhook events, reply with a push fallback.

`account_ref` is the webhook's ``destination`` (the bot's user id). The reply token of an event is
kept in ``event.raw["replyToken"]`` (see `reply_token`); it is single use and expires about a
minute after delivery, so the sender falls back to a push message when LINE refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

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
from relaydesk.core.timeutil import as_utc

NETWORK = "line"
SIGNATURE_HEADER = "X-Line-Signature"
API_BASE = "https://api.line.me"
TEXT_LIMIT = 5000
# LINE documents reply tokens as usable for about a minute; past that we push, which is also the
# only path with a server-side idempotency key (X-Line-Retry-Key).
REPLY_TOKEN_TTL = timedelta(seconds=50)
MAX_MESSAGES = 5
# A fixed namespace turns any idempotency key into the UUID that X-Line-Retry-Key requires.
_RETRY_KEY_NAMESPACE = uuid.UUID("6f0c1d8e-52b5-4a51-9a1e-7d2b8a9c4e11")

_ATTACHMENT_KINDS = {"image": "image", "video": "video", "audio": "audio", "file": "file"}
_IGNORED_EVENTS = frozenset(
    {"follow", "unfollow", "join", "leave", "memberJoined", "memberLeft", "postback", "beacon",
     "accountLink", "things", "videoPlayComplete", "membership", "module", "activated",
     "deactivated", "botSuspended", "botResumed"}
)  # fmt: skip


def signature(body: bytes, channel_secret: str) -> str:
    return base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(body: bytes, headers: Mapping[str, str], channel_secret: str) -> None:
    """Raise SignatureError unless X-Line-Signature is base64(HMAC-SHA256(channel secret, body))."""
    given = http.header(headers, SIGNATURE_HEADER)
    if not given:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header", 401)
    if not hmac.compare_digest(given.strip().encode(), signature(body, channel_secret).encode()):
        raise SignatureError("LINE signature does not match", 403)


def reply_token(event: InboundEvent) -> str | None:
    token = event.raw.get("replyToken")
    return token if isinstance(token, str) else None


def retry_key(idempotency_key: str) -> str:
    return str(uuid.uuid5(_RETRY_KEY_NAMESPACE, idempotency_key))


def _thread_of(source: dict[str, Any]) -> str | None:
    return source.get("groupId") or source.get("roomId") or source.get("userId")


def _message_event(ev: dict[str, Any], destination: str | None) -> ParsedEvent:
    msg = ev["message"]
    source = ev.get("source") or {}
    mtype = msg.get("type")
    text = ""
    attachments: list[Attachment] = []
    if mtype == "text":
        text = msg["text"]
    elif mtype in _ATTACHMENT_KINDS:
        attachments.append(Attachment(kind=_ATTACHMENT_KINDS[mtype], name=msg.get("fileName")))
    elif mtype == "sticker":
        keywords = msg.get("keywords") or []
        attachments.append(Attachment(kind="sticker", name=msg.get("stickerId")))
        text = msg.get("text") or ""
        if not text and keywords:
            text = f"[sticker: {', '.join(str(k) for k in keywords[:3])}]"
    elif mtype == "location":
        attachments.append(Attachment(kind="location", name=f"{msg.get('latitude')},{msg.get('longitude')}"))
        text = " ".join(str(p) for p in (msg.get("title"), msg.get("address")) if p)
    author = source.get("userId") or _thread_of(source)
    if not author:
        raise KeyError("source.userId")
    stamp = ev.get("timestamp")
    is_group = source.get("type") in ("group", "room")
    return ParsedEvent(
        account_ref=destination,
        event=InboundEvent(
            network=NETWORK,
            external_id=str(msg["id"]),
            author_id=str(author),
            text=text,
            sent_at=datetime.fromtimestamp(stamp / 1000, UTC) if isinstance(stamp, int | float) else None,
            thread_id=_thread_of(source),
            reply_to_id=msg.get("quotedMessageId"),
            kind="message" if is_group else "dm",
            attachments=attachments,
            raw=ev,
        ),
    )


def _unsend_event(ev: dict[str, Any], destination: str | None) -> ParsedEvent:
    source = ev.get("source") or {}
    return ParsedEvent(
        account_ref=destination,
        event=InboundEvent(
            network=NETWORK,
            external_id=str(ev["unsend"]["messageId"]),
            author_id=str(source.get("userId") or _thread_of(source) or ""),
            text="",
            thread_id=_thread_of(source),
            raw=ev,
        ),
        action="delete",
    )


def parse(body: bytes | dict[str, Any]) -> ParseResult:
    """Redelivered events (``deliveryContext.isRedelivery``) keep the message id, so they dedupe."""
    data = http.load_object(body, "LINE webhook body")
    result = ParseResult()
    destination = data.get("destination")
    events = data.get("events")
    if not isinstance(events, list):
        result.errors.append("events: field required (a list)")
        return result
    for i, ev in enumerate(events):
        path = f"events[{i}]"
        if not isinstance(ev, dict):
            result.errors.append(f"{path}: must be an object")
            continue
        etype = ev.get("type")
        try:
            if etype == "message":
                result.events.append(_message_event(ev, destination))
            elif etype == "unsend":
                result.events.append(_unsend_event(ev, destination))
            else:
                result.ignored.append(
                    f"{path}: {etype if etype in _IGNORED_EVENTS else f'unknown {etype!r}'}"
                )
        except (KeyError, TypeError, AttributeError) as exc:
            result.errors.append(f"{path}: missing or malformed field {exc}")
    return result


def _chunks(text: str) -> list[dict[str, str]]:
    parts = [text[i : i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)] or [""]
    return [{"type": "text", "text": p} for p in parts[:MAX_MESSAGES]]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _first_sent_id(data: dict[str, Any]) -> str | None:
    sent = data.get("sentMessages")
    if isinstance(sent, list) and sent and isinstance(sent[0], dict) and sent[0].get("id"):
        return str(sent[0]["id"])
    return None


class LineSender:
    """Reply with the event's reply token; push (with X-Line-Retry-Key) when it is gone.

    credentials: ``{"channel_access_token": "..."}``. The reply token comes from
    ``req.extra["reply_token"]`` or, when not numeric, ``req.reply_to_external_id``. The push goes to
    ``req.thread_id`` (group / room / user) or ``req.recipient_id``.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str = API_BASE,
        timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.base_url = base_url
        self.timeout = timeout
        self.clock = clock

    async def send(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult:
        token = credentials.get("channel_access_token") or credentials.get("access_token")
        if not token:
            return SendResult(
                ok=False, error="LINE account has no channel access token", code="token_expired"
            )
        headers = {"Authorization": f"Bearer {token}"}
        messages = _chunks(req.text)
        token_for_reply = req.extra.get("reply_token")
        if not token_for_reply and req.reply_to_external_id and not req.reply_to_external_id.isdigit():
            token_for_reply = req.reply_to_external_id
        try:
            async with httpx.AsyncClient(
                transport=self.transport, base_url=self.base_url, timeout=self.timeout
            ) as client:
                if token_for_reply:
                    response = await client.post(
                        "/v2/bot/message/reply",
                        json={"replyToken": token_for_reply, "messages": messages},
                        headers=headers,
                    )
                    data = _json(response)
                    if not _reply_token_refused(response, data):
                        return self._result(response, data)
                response = await client.post(
                    "/v2/bot/message/push",
                    json={"to": req.thread_id or req.recipient_id, "messages": messages},
                    headers={**headers, "X-Line-Retry-Key": retry_key(req.idempotency_key)},
                )
                return self._result(response, _json(response))
        except httpx.TimeoutException:
            return SendResult(ok=False, error="LINE API timed out", retryable=True)
        except httpx.TransportError as exc:
            return SendResult(ok=False, error=f"LINE API unreachable ({type(exc).__name__})", retryable=True)

    def _result(self, response: httpx.Response, data: dict[str, Any]) -> SendResult:
        status = response.status_code
        message = str(data.get("message") or f"HTTP {status}")[:300]
        if status == 200:
            return SendResult(
                ok=True, external_id=_first_sent_id(data) or response.headers.get("x-line-request-id")
            )
        if status == 409:
            # The retry key was already accepted: an earlier attempt got through.
            accepted = response.headers.get("x-line-accepted-request-id")
            return SendResult(ok=True, external_id=_first_sent_id(data) or accepted)
        if status == 429:
            if "monthly limit" in message.lower():
                return SendResult(ok=False, error=f"LINE: {message}", code="quota_exhausted")
            return SendResult(
                ok=False,
                error=f"LINE rate limit: {message}",
                retryable=True,
                retry_after=http.retry_after(response, self.clock()),
            )
        if status == 401:
            return SendResult(
                ok=False, error=f"LINE refused the access token: {message}", code="token_expired"
            )
        if status >= 500:
            return SendResult(ok=False, error=f"LINE server error: {message}", retryable=True)
        return SendResult(ok=False, error=f"LINE: {message}")


def _reply_token_refused(response: httpx.Response, data: dict[str, Any]) -> bool:
    return response.status_code == 400 and "reply token" in str(data.get("message", "")).lower()


def reply_extra(
    raw: Mapping[str, Any], received_at: datetime | None, attempt: int, now: datetime
) -> dict[str, Any]:
    """The customer's reply token, while it is fresh. Only a first attempt may spend it: a resend
    after a crash must go by push, where LINE's retry key makes it harmless."""
    if attempt != 1:
        return {}
    token = raw.get("replyToken")
    received = as_utc(received_at)
    if isinstance(token, str) and received is not None and now - received < REPLY_TOKEN_TTL:
        return {"reply_token": token}
    return {}


CHANNEL = Channel(
    spec=NetworkSpec(
        network=NETWORK,
        send_credentials=("channel_access_token",),
        webhook_credentials=("channel_secret",),
        webhook_path="/webhooks/line/{account_id}",
        server_idempotency=True,  # X-Line-Retry-Key on push
        aliases={"channel_access_token": ("access_token",)},
        identity="bot",  # the `destination` of its webhooks
    ),
    verify=verify,
    parse=lambda body, _ref: parse(body),
    sender=LineSender,
    reply_extra=reply_extra,
    # A LINE body names its bot (`destination`); one signed for another bot is not ours.
    other_account="another LINE bot",
)
