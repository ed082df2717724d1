"""X (Twitter): Account Activity webhook (CRC + signature + events), v2 posts and DMs.

`account_ref` is the webhook's ``for_user_id`` (the id of our account). Our own tweets and DMs
are delivered to us too; they come back as ``action="echo"`` so the pipeline can match them to
what the outbox sent. An edited post gets a new id on X; we report it as ``action="edit"`` under
the id of the first version, so it lands on the row we already have.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
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
from relaydesk.channels.channel import WHEN_ASKED, Channel, NetworkSpec

NETWORK = "x"
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
API_BASE = "https://api.x.com"
_META_KEYS = frozenset({"for_user_id", "users", "apps", "user_has_blocked", "source"})
_MEDIA_KINDS = {"photo": "image", "video": "video", "animated_gif": "video"}


def _b64_hmac(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The JSON body answering X's GET ?crc_token=... challenge."""
    return {"response_token": "sha256=" + _b64_hmac(consumer_secret, crc_token.encode())}


def signature(body: bytes, consumer_secret: str) -> str:
    return "sha256=" + _b64_hmac(consumer_secret, body)


def verify(body: bytes, headers: Mapping[str, str], consumer_secret: str) -> None:
    given = http.header(headers, SIGNATURE_HEADER)
    if not given:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header", 401)
    if not hmac.compare_digest(given.strip().encode(), signature(body, consumer_secret).encode()):
        raise SignatureError("X webhook signature does not match", 403)


def dm_thread_id(a: str, b: str) -> str:
    """X's one-to-one conversation id: both user ids, smaller first."""
    lo, hi = sorted((a, b), key=lambda v: (len(v), v))
    return f"{lo}-{hi}"


def _ms(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError):
        return None


def _v1_created_at(tweet: dict[str, Any]) -> datetime | None:
    if tweet.get("timestamp_ms"):
        return _ms(tweet["timestamp_ms"])
    created = tweet.get("created_at")
    if isinstance(created, str):
        try:
            return datetime.strptime(created, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
        except ValueError:
            return None
    return None


def _v1_text(tweet: dict[str, Any]) -> str:
    source = tweet.get("extended_tweet") or tweet
    text = source.get("full_text") or source.get("text") or ""
    span = source.get("display_text_range")
    # display_text_range drops the leading @handles X adds to every reply.
    if isinstance(span, list) and len(span) == 2 and all(isinstance(v, int) for v in span):
        start, end = span
        if 0 <= start < end <= len(text):
            return str(text[start:end])
    return str(text)


def _v1_media(tweet: dict[str, Any]) -> list[Attachment]:
    source = tweet.get("extended_tweet") or tweet
    entities = source.get("extended_entities") or source.get("entities") or {}
    out = []
    for media in entities.get("media") or []:
        out.append(
            Attachment(
                kind=_MEDIA_KINDS.get(media.get("type", ""), "other"),
                url=media.get("media_url_https") or media.get("media_url"),
            )
        )
    return out


def _tweet_event(tweet: dict[str, Any], for_user_id: str | None) -> ParsedEvent:
    user = tweet["user"]
    author_id = str(user["id_str"] if "id_str" in user else user["id"])
    tweet_id = str(tweet["id_str"] if "id_str" in tweet else tweet["id"])
    history = tweet.get("edit_history") or {}
    initial = str(history.get("initial_tweet_id") or tweet_id)
    action = "edit" if initial != tweet_id else "create"
    reply_to = tweet.get("in_reply_to_status_id_str")
    kind = "comment" if for_user_id and tweet.get("in_reply_to_user_id_str") == for_user_id else "mention"
    if for_user_id and author_id == for_user_id:
        action, kind = "echo", "post"
    return ParsedEvent(
        account_ref=for_user_id,
        action=action,
        event=InboundEvent(
            network=NETWORK,
            external_id=initial,
            author_id=author_id,
            text=_v1_text(tweet),
            author_name=user.get("name"),
            author_handle=user.get("screen_name"),
            sent_at=_v1_created_at(tweet),
            thread_id=None,
            reply_to_id=str(reply_to) if reply_to else None,
            kind=kind,
            attachments=_v1_media(tweet),
            raw=tweet,
            author_followers=user.get("followers_count"),
            lang_hint=tweet.get("lang") if tweet.get("lang") not in (None, "und") else None,
        ),
    )


def _dm_event(dm: dict[str, Any], users: dict[str, Any], for_user_id: str | None) -> ParsedEvent:
    create = dm["message_create"]
    sender = str(create["sender_id"])
    recipient = str((create.get("target") or {}).get("recipient_id") or for_user_id or "")
    data = create.get("message_data") or {}
    profile = users.get(sender) or {}
    attachments = []
    media = (data.get("attachment") or {}).get("media")
    if isinstance(media, dict):
        attachments.append(
            Attachment(
                kind=_MEDIA_KINDS.get(media.get("type", ""), "other"), url=media.get("media_url_https")
            )
        )
    echo = for_user_id is not None and sender == for_user_id
    return ParsedEvent(
        account_ref=for_user_id,
        action="echo" if echo else "create",
        event=InboundEvent(
            network=NETWORK,
            external_id=str(dm["id"]),
            author_id=sender,
            text=str(data.get("text") or ""),
            author_name=profile.get("name"),
            author_handle=profile.get("screen_name"),
            sent_at=_ms(dm.get("created_timestamp")),
            thread_id=dm_thread_id(sender, recipient) if recipient else None,
            kind="dm",
            attachments=attachments,
            raw=dm,
            author_followers=profile.get("followers_count"),
        ),
    )


def _delete_event(item: dict[str, Any], for_user_id: str | None) -> ParsedEvent:
    status = item["status"]
    return ParsedEvent(
        account_ref=for_user_id,
        action="delete",
        event=InboundEvent(
            network=NETWORK,
            external_id=str(status["id"]),
            author_id=str(status.get("user_id") or ""),
            text="",
            sent_at=_ms(item.get("timestamp_ms")),
            raw=item,
        ),
    )


def parse(body: bytes | dict[str, Any]) -> ParseResult:
    """An Account Activity delivery: tweets, DMs and deletes become events, the rest `ignored`."""
    data = http.load_object(body, "X webhook body")
    result = ParseResult()
    for_user_id = data.get("for_user_id")
    for_user_id = str(for_user_id) if for_user_id is not None else None
    users = data.get("users") if isinstance(data.get("users"), dict) else {}
    for key, value in data.items():
        if key in _META_KEYS:
            continue
        if key not in ("tweet_create_events", "direct_message_events", "tweet_delete_events"):
            result.ignored.append(key)
            continue
        if not isinstance(value, list):
            result.errors.append(f"{key}: must be a list")
            continue
        for i, item in enumerate(value):
            path = f"{key}[{i}]"
            try:
                if key == "tweet_create_events":
                    if "retweeted_status" in item:
                        result.ignored.append(f"{path}: retweet")
                        continue
                    result.events.append(_tweet_event(item, for_user_id))
                elif key == "tweet_delete_events":
                    result.events.append(_delete_event(item, for_user_id))
                elif item.get("type") == "message_create":
                    result.events.append(_dm_event(item, users or {}, for_user_id))
                else:
                    result.ignored.append(f"{path}: {item.get('type')}")
            except (KeyError, TypeError, AttributeError) as exc:
                result.errors.append(f"{path}: missing or malformed field {exc}")
    return result


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def parse_v2_posts(body: dict[str, Any], account_user_id: str | None, kind: str = "mention") -> ParseResult:
    """A v2 search / mentions response (``data`` + ``includes.users`` / ``includes.media``)."""
    result = ParseResult()
    includes = body.get("includes") or {}
    users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
    media = {m.get("media_key"): m for m in includes.get("media") or [] if isinstance(m, dict)}
    for i, post in enumerate(body.get("data") or []):
        try:
            post_id = str(post["id"])
            author_id = str(post["author_id"])
            user = users.get(author_id, {})
            history = post.get("edit_history_tweet_ids") or [post_id]
            replied = [r["id"] for r in post.get("referenced_tweets") or [] if r.get("type") == "replied_to"]
            keys = (post.get("attachments") or {}).get("media_keys") or []
            action = "edit" if str(history[0]) != post_id else "create"
            to_us = account_user_id is not None and post.get("in_reply_to_user_id") == account_user_id
            event_kind = "comment" if to_us else kind
            if account_user_id and author_id == account_user_id:
                action, event_kind = "echo", "post"
            result.events.append(
                ParsedEvent(
                    account_ref=account_user_id,
                    action=action,
                    event=InboundEvent(
                        network=NETWORK,
                        external_id=str(history[0]),
                        author_id=author_id,
                        text=str(post.get("text") or ""),
                        author_name=user.get("name"),
                        author_handle=user.get("username"),
                        sent_at=_iso(post.get("created_at")),
                        thread_id=post.get("conversation_id"),
                        reply_to_id=str(replied[0]) if replied else None,
                        kind=event_kind,
                        attachments=[
                            Attachment(
                                kind=_MEDIA_KINDS.get(media[k].get("type", ""), "other"),
                                url=media[k].get("url") or media[k].get("preview_image_url"),
                            )
                            for k in keys
                            if k in media
                        ],
                        raw=post,
                        author_followers=(user.get("public_metrics") or {}).get("followers_count"),
                        lang_hint=post.get("lang") if post.get("lang") not in (None, "und") else None,
                    ),
                )
            )
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            result.errors.append(f"data[{i}]: missing or malformed field {exc}")
    return result


def rate_limit_wait(response: httpx.Response, now: float) -> float | None:
    """Seconds until X lets us in again: x-rate-limit-reset (epoch) or Retry-After."""
    reset = response.headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                return None
    return None


def error_detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(data, dict):
        if data.get("detail"):
            return str(data["detail"])[:300]
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0].get("detail") or "")[:300]
        if data.get("title"):
            return str(data["title"])[:300]
    return f"HTTP {response.status_code}"


class XSender:
    """Posts a reply (``POST /2/tweets``) or a DM (``mode="dm"``).

    credentials: ``{"access_token": "<OAuth 2.0 user-context token>"}``. X has no idempotency key:
    a resend after a lost response may post twice, except that X refuses identical text
    (reported as ``code="duplicate"``).
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
        token = credentials.get("access_token")
        if not token:
            return SendResult(ok=False, error="X account has no access token", code="token_expired")
        headers = {"Authorization": f"Bearer {token}"}
        if req.mode == "dm":
            path = f"/2/dm_conversations/with/{req.recipient_id}/messages"
            payload: dict[str, Any] = {"text": req.text}
        else:
            path = "/2/tweets"
            payload = {"text": req.text}
            if req.reply_to_external_id:
                payload["reply"] = {"in_reply_to_tweet_id": req.reply_to_external_id}
        try:
            async with httpx.AsyncClient(
                transport=self.transport, base_url=self.base_url, timeout=self.timeout
            ) as client:
                response = await client.post(path, json=payload, headers=headers)
        except httpx.TimeoutException:
            return SendResult(ok=False, error="X API timed out", retryable=True)
        except httpx.TransportError as exc:
            return SendResult(ok=False, error=f"X API unreachable ({type(exc).__name__})", retryable=True)
        return self._result(response)

    def _result(self, response: httpx.Response) -> SendResult:
        status = response.status_code
        if status in (200, 201):
            try:
                data = response.json().get("data") or {}
            except (ValueError, AttributeError):
                data = {}
            external_id = data.get("id") or data.get("dm_event_id")
            return SendResult(ok=True, external_id=str(external_id) if external_id else None)
        detail = error_detail(response)
        if status == 429:
            return SendResult(
                ok=False,
                error=f"X rate limit: {detail}",
                retryable=True,
                retry_after=rate_limit_wait(response, self.clock()),
            )
        if status == 401:
            return SendResult(ok=False, error=f"X refused the access token: {detail}", code="token_expired")
        if status == 403 and "duplicate" in detail.lower():
            return SendResult(ok=False, error=f"X: {detail}", code="duplicate")
        if status == 403:
            return SendResult(ok=False, error=f"X: {detail}", code="forbidden")
        if status >= 500:
            return SendResult(ok=False, error=f"X server error: {detail}", retryable=True)
        return SendResult(ok=False, error=f"X: {detail}")


# Kind of the customer's message -> how the answer is posted.
_REPLY_MODES = {"mention": "post_reply", "post": "post_reply", "comment": "post_reply", "dm": "dm"}


def reply_mode(kind: str, raw: Mapping[str, Any]) -> str:
    del raw
    return _REPLY_MODES.get(kind, "message")


CHANNEL = Channel(
    spec=NetworkSpec(
        network=NETWORK,
        send_credentials=("access_token",),
        webhook_credentials=("consumer_secret",),
        webhook_path="/webhooks/x",
        server_idempotency=False,
        identity="user",
        routed_by_external_id=True,
        polled=WHEN_ASKED,
    ),
    verify=verify,
    parse=lambda body, _ref: parse(body),
    sender=XSender,
    reply_mode=reply_mode,
)
