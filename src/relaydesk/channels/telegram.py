"""Telegram Bot API: webhook secret check, Update parsing, sendMessage.

Message ids are only unique inside one chat, so our external ids are ``"<chat_id>:<message_id>"``
in both directions; the sender accepts that form (or a bare message id) as the reply target.
`account_ref` is the bot id, the number before the colon in the bot token.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
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
from relaydesk.channels.channel import WHEN_ASKED, Channel, MediaUnavailable, NetworkSpec, download

NETWORK = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
API_BASE = "https://api.telegram.org"

_TOKEN_IN_PATH = re.compile(r"/bot[^/\s]+/")


class RedactBotToken(logging.Filter):
    """The Bot API puts the token in the URL path, and httpx logs each request's URL at INFO.

    Attached to the ``httpx`` logger so a deployment that logs at INFO never writes a bot token.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            record.msg, record.args = _TOKEN_IN_PATH.sub("/bot<redacted>/", message), None
        return True


_REDACT = RedactBotToken()
# Once per process (addFilter ignores a filter it already has).
logging.getLogger("httpx").addFilter(_REDACT)

_MESSAGE_KEYS = {
    "message": "create",
    "edited_message": "edit",
    "channel_post": "create",
    "edited_channel_post": "edit",
    "business_message": "create",
    "edited_business_message": "edit",
}


def bot_id_from_token(token: str) -> str:
    return token.split(":", 1)[0]


def verify(headers: Mapping[str, str], secret_token: str) -> None:
    """Telegram sends the `secret_token` given to setWebhook back in a header, unsigned."""
    given = http.header(headers, SECRET_HEADER)
    if not given:
        raise SignatureError(f"missing {SECRET_HEADER} header", 401)
    if not hmac.compare_digest(given.encode(), secret_token.encode()):
        raise SignatureError("Telegram secret token does not match", 403)


def message_ref(chat_id: Any, message_id: Any) -> str:
    return f"{chat_id}:{message_id}"


def _full_name(user: dict[str, Any]) -> str | None:
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
    return name or user.get("title") or None


def _file_id(item: dict[str, Any]) -> str | None:
    value = item.get("file_id")
    return value if isinstance(value, str) and value else None


def _attachments(msg: dict[str, Any]) -> list[Attachment]:
    out: list[Attachment] = []
    photo = msg.get("photo")
    if photo:
        # Sizes come smallest first: the largest is the one worth showing.
        largest = photo[-1] if isinstance(photo, list) and isinstance(photo[-1], dict) else {}
        out.append(Attachment(kind="image", mime_type="image/jpeg", ref=_file_id(largest)))
    for key, kind in (("video", "video"), ("voice", "audio"), ("audio", "audio"), ("document", "file")):
        item = msg.get(key)
        if isinstance(item, dict):
            out.append(
                Attachment(
                    kind=kind, name=item.get("file_name"), mime_type=item.get("mime_type"), ref=_file_id(item)
                )
            )
    sticker = msg.get("sticker")
    if isinstance(sticker, dict):
        out.append(Attachment(kind="sticker", name=sticker.get("emoji")))
    location = msg.get("location")
    if isinstance(location, dict):
        out.append(
            Attachment(kind="location", name=f"{location.get('latitude')},{location.get('longitude')}")
        )
    return out


def _message_event(msg: dict[str, Any], action: str, bot_id: str | None) -> ParsedEvent:
    chat = msg["chat"]
    chat_id = chat["id"]
    chat_type = chat.get("type", "private")
    sender = msg.get("from") or msg.get("sender_chat") or chat
    author_id = str(sender["id"])
    stamp = msg.get("edit_date") if action == "edit" else msg.get("date")
    reply = msg.get("reply_to_message")
    kind = {"private": "dm", "channel": "post"}.get(chat_type, "message")
    event = InboundEvent(
        network=NETWORK,
        external_id=message_ref(chat_id, msg["message_id"]),
        author_id=author_id,
        text=msg.get("text") or msg.get("caption") or "",
        author_name=_full_name(sender),
        author_handle=sender.get("username"),
        sent_at=datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int | float) else None,
        thread_id=str(chat_id),
        reply_to_id=message_ref(chat_id, reply["message_id"]) if isinstance(reply, dict) else None,
        kind=kind,
        attachments=_attachments(msg),
        raw=msg,
        lang_hint=(msg.get("from") or {}).get("language_code"),
    )
    if bot_id is not None and author_id == str(bot_id):
        action = "echo"
    return ParsedEvent(account_ref=bot_id, event=event, action=action)


def parse_update(update: dict[str, Any], result: ParseResult, bot_id: str | None, path: str) -> None:
    for key, action in _MESSAGE_KEYS.items():
        msg = update.get(key)
        if msg is None:
            continue
        try:
            parsed = _message_event(msg, action, bot_id)
        except (KeyError, TypeError, AttributeError) as exc:
            result.errors.append(f"{path}.{key}: missing or malformed field {exc}")
            return
        result.events.append(parsed)
        return
    other = [k for k in update if k != "update_id"]
    result.ignored.append(f"{path}: {other[0] if other else 'empty update'}")


def parse(body: bytes | dict[str, Any], bot_id: str | None = None) -> ParseResult:
    """One webhook Update, or a getUpdates response ``{"ok": true, "result": [Update, ...]}``."""
    data = http.load_object(body, "Telegram update")
    result = ParseResult()
    if "result" in data and isinstance(data["result"], list):
        for i, update in enumerate(data["result"]):
            if not isinstance(update, dict):
                result.errors.append(f"result[{i}]: must be an object")
                continue
            parse_update(update, result, bot_id, f"result[{i}]")
        return result
    if "update_id" not in data:
        result.errors.append("update_id: field required (not a Telegram Update)")
        return result
    parse_update(data, result, bot_id, "update")
    return result


def _message_id(ref: str | None) -> int | None:
    if not ref:
        return None
    tail = ref.rsplit(":", 1)[-1]
    return int(tail) if tail.lstrip("-").isdigit() else None


class TelegramSender:
    """sendMessage. credentials: ``{"bot_token": "123:ABC"}``.

    The chat is `req.thread_id` when set (a group the customer wrote in), else `req.recipient_id`.
    The token sits in the URL path, so no error text here is ever built from an httpx exception.
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
        token = credentials.get("bot_token") or credentials.get("token")
        if not token:
            return SendResult(ok=False, error="Telegram account has no bot token", code="token_expired")
        chat_id = req.thread_id or req.recipient_id
        payload: dict[str, Any] = {"chat_id": chat_id, "text": req.text}
        reply_id = _message_id(req.reply_to_external_id)
        if reply_id is not None:
            payload["reply_parameters"] = {"message_id": reply_id, "allow_sending_without_reply": True}
        method = "sendMessage"
        try:
            async with httpx.AsyncClient(
                transport=self.transport, base_url=self.base_url, timeout=self.timeout
            ) as client:
                if req.files:
                    # One file per reply (the channel says so), the text as its caption.
                    file = req.files[0]
                    method, field = (
                        ("sendPhoto", "photo") if file.kind == "image" else ("sendDocument", "document")
                    )
                    form = {"chat_id": str(chat_id), "caption": req.text}
                    if reply_id is not None:
                        form["reply_parameters"] = json.dumps(payload["reply_parameters"])
                    response = await client.post(
                        f"/bot{token}/{method}",
                        data=form,
                        files={field: (file.name, file.data, file.mime_type)},
                    )
                else:
                    response = await client.post(f"/bot{token}/sendMessage", json=payload)
        except httpx.TimeoutException:
            return SendResult(ok=False, error=f"Telegram {method} timed out", retryable=True)
        except httpx.TransportError as exc:
            return SendResult(ok=False, error=f"Telegram unreachable ({type(exc).__name__})", retryable=True)
        return self._result(response, chat_id)

    def _result(self, response: httpx.Response, chat_id: str) -> SendResult:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code == 200 and data.get("ok"):
            message = data.get("result") or {}
            return SendResult(ok=True, external_id=message_ref(chat_id, message.get("message_id")))
        return error_result(response.status_code, data)


def error_result(status: int, data: dict[str, Any]) -> SendResult:
    """Map a Bot API error (``{"ok": false, "error_code", "description", "parameters"}``)."""
    code = int(data.get("error_code") or status)
    description = str(data.get("description") or f"HTTP {status}")[:300]
    params = data.get("parameters") or {}
    if code == 429:
        retry = params.get("retry_after")
        return SendResult(
            ok=False,
            error=f"Telegram rate limit: {description}",
            retryable=True,
            retry_after=float(retry) if isinstance(retry, int | float) else None,
        )
    if code == 401:
        return SendResult(
            ok=False, error=f"Telegram refused the bot token: {description}", code="token_expired"
        )
    if code == 403:
        return SendResult(ok=False, error=f"Telegram: {description}", code="blocked")
    if code >= 500:
        return SendResult(ok=False, error=f"Telegram server error: {description}", retryable=True)
    if code == 400 and "migrate_to_chat_id" in params:
        return SendResult(ok=False, error=f"Telegram: {description}", code="chat_migrated")
    return SendResult(ok=False, error=f"Telegram: {description}")


def fetch_media(attachment: Mapping[str, Any], credentials: Mapping[str, Any], client: httpx.Client) -> bytes:
    """A customer's file: ``getFile`` gives its path, downloaded from the bot's file address.

    The token is in both addresses, so no error text here is built from an httpx exception."""
    ref = attachment.get("ref")
    token = credentials.get("bot_token") or credentials.get("token")
    if not isinstance(ref, str) or not ref or not token:
        raise MediaUnavailable("no file id, or no bot token on the account")
    try:
        answer = client.get(f"{API_BASE}/bot{token}/getFile", params={"file_id": ref})
        found = answer.json() if answer.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        raise MediaUnavailable("Telegram did not describe the file") from None
    path = (found.get("result") or {}).get("file_path") if isinstance(found, dict) else None
    if not isinstance(path, str) or not path or ".." in path:
        raise MediaUnavailable(f"Telegram has no such file now (HTTP {answer.status_code})")
    try:
        return download(client, f"{API_BASE}/file/bot{token}/{path}")
    except MediaUnavailable as exc:
        raise MediaUnavailable(str(exc).replace(str(token), "<token>")) from None


CHANNEL = Channel(
    spec=NetworkSpec(
        network=NETWORK,
        send_credentials=("bot_token",),
        webhook_credentials=("webhook_secret",),
        webhook_path="/webhooks/telegram/{account_id}",
        server_idempotency=False,
        aliases={"bot_token": ("token",), "webhook_secret": ("secret_token",)},
        note="call setWebhook with this url and secret_token=<webhook_secret>",
        identity="bot",
        ready="ready: call setWebhook with url={address} and secret_token=<webhook_secret>",
        polled=WHEN_ASKED,
    ),
    verify=lambda _body, headers, secret: verify(headers, secret),
    parse=lambda body, ref: parse(body, bot_id=ref),
    max_files=1,
    max_text_with_files=1024,  # a caption's limit in the Bot API
    fetch_media=fetch_media,
    sender=TelegramSender,
    # An update does not say which bot it was sent to: the account's bot id tells ours apart.
    parse_with_account_ref=True,
)
