"""Polling fallbacks for accounts without webhooks: X mentions/search, Telegram, IMAP.

Every poller takes its cursor as a plain value and returns the next one; the caller stores it
only after the returned events are safely accepted, so a crash in between repeats a batch
(deduped downstream by external id) and never skips one. A failure part-way raises PollError
and leaves the cursor where it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from relaydesk.channels import email as email_channel
from relaydesk.channels import telegram, x
from relaydesk.channels.base import ParsedEvent, ParseResult

X_POST_FIELDS = (
    "author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets,lang,"
    "edit_history_tweet_ids,attachments"
)
X_USER_FIELDS = "name,username,public_metrics"
X_EXPANSIONS = "author_id,attachments.media_keys"


class PollError(Exception):
    """The poll did not complete; the cursor must stay as it was."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code


def _newer(a: str | None, b: str | None) -> str | None:
    """The larger of two X ids; ids are numbers, and string order breaks when lengths differ."""
    if a is None:
        return b
    if b is None:
        return a
    return a if int(a) >= int(b) else b


def _names_since_id(response: httpx.Response) -> bool:
    """Does a 400 blame `since_id`? (``errors[].parameters.since_id``, X's invalid-request shape)."""
    try:
        body = response.json()
    except ValueError:
        return False
    errors = body.get("errors") if isinstance(body, dict) else None
    return any(
        isinstance(e, dict) and isinstance(e.get("parameters"), dict) and "since_id" in e["parameters"]
        for e in errors or []
    )


def _x_failure(response: httpx.Response, now: float) -> PollError:
    detail = x.error_detail(response)
    status = response.status_code
    if status == 400 and _names_since_id(response):
        # Recent search takes only a since_id of the last 7 days; an older cursor is refused.
        return PollError(f"X refused the since_id: {detail}", retryable=False, code="since_id_too_old")
    if status == 429:
        return PollError(f"X rate limit: {detail}", retry_after=x.rate_limit_wait(response, now))
    if status == 401:
        return PollError(f"X refused the token: {detail}", retryable=False, code="token_expired")
    return PollError(f"X poll failed ({status}): {detail}", retryable=status >= 500)


async def _poll_x(
    client: httpx.AsyncClient,
    path: str,
    params: dict[str, Any],
    page_param: str,
    account_user_id: str | None,
    since_id: str | None,
    kind: str,
    clock: Callable[[], float],
) -> tuple[list[ParsedEvent], str | None]:
    base = {
        **params,
        "tweet.fields": X_POST_FIELDS,
        "user.fields": X_USER_FIELDS,
        "expansions": X_EXPANSIONS,
        "max_results": 100,
    }
    if since_id:
        base["since_id"] = since_id
    events: list[ParsedEvent] = []
    newest: str | None = None
    token: str | None = None
    # Pages run newest to oldest; stopping early would leave a hole below the newest id, so any
    # failure before the last page abandons the whole round rather than moving the cursor.
    while True:
        query = dict(base)
        if token:
            query[page_param] = token
        try:
            response = await client.get(path, params=query)
        except httpx.TimeoutException:
            raise PollError("X poll timed out") from None
        except httpx.TransportError as exc:
            raise PollError(f"X unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise _x_failure(response, clock())
        body = response.json()
        for post in body.get("data") or []:
            newest = _newer(newest, str(post.get("id")))
        events.extend(x.parse_v2_posts(body, account_user_id, kind=kind).events)
        token = (body.get("meta") or {}).get("next_token")
        if not token:
            break
    events.sort(key=lambda e: int(e.event.raw.get("id", e.event.external_id)))
    return events, _newer(since_id, newest)


async def poll_x_mentions(
    client: httpx.AsyncClient,
    account_user_id: str,
    since_id: str | None,
    *,
    clock: Callable[[], float] = time.time,
) -> tuple[list[ParsedEvent], str | None]:
    """Mentions of our account newer than `since_id`, oldest first, and the next since_id.

    `client` carries base_url and the Authorization header.
    """
    return await _poll_x(
        client,
        f"/2/users/{account_user_id}/mentions",
        {},
        "pagination_token",
        account_user_id,
        since_id,
        "mention",
        clock,
    )


async def poll_x_search(
    client: httpx.AsyncClient,
    query: str,
    since_id: str | None,
    account_user_id: str | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> tuple[list[ParsedEvent], str | None]:
    """Recent-search results (listening); same cursor rules as mentions."""
    return await _poll_x(
        client,
        "/2/tweets/search/recent",
        {"query": query},
        "next_token",
        account_user_id,
        since_id,
        "mention",
        clock,
    )


async def poll_telegram(
    client: httpx.AsyncClient, token: str, offset: int | None, *, timeout: int = 0, limit: int = 100
) -> tuple[ParseResult, int | None]:
    """getUpdates from `offset`; the next offset is the last update_id + 1.

    Passing that offset next time confirms these updates to Telegram, which then forgets them.
    `client` needs only base_url; its timeout must exceed `timeout` (long polling).
    """
    params: dict[str, Any] = {"timeout": timeout, "limit": limit}
    if offset is not None:
        params["offset"] = offset
    try:
        response = await client.get(f"/bot{token}/getUpdates", params=params)
    except httpx.TimeoutException:
        raise PollError("Telegram getUpdates timed out") from None
    except httpx.TransportError as exc:
        raise PollError(f"Telegram unreachable ({type(exc).__name__})") from None
    try:
        data = response.json()
    except ValueError:
        raise PollError(f"Telegram getUpdates answered HTTP {response.status_code} without JSON") from None
    if not isinstance(data, dict) or not data.get("ok"):
        failure = telegram.error_result(response.status_code, data if isinstance(data, dict) else {})
        raise PollError(
            failure.error or "Telegram getUpdates failed",
            retryable=failure.retryable,
            retry_after=failure.retry_after,
            code=failure.code,
        )
    updates = [u for u in data.get("result") or [] if isinstance(u, dict)]
    result = telegram.parse({"ok": True, "result": updates}, bot_id=telegram.bot_id_from_token(token))
    ids = [u["update_id"] for u in updates if isinstance(u.get("update_id"), int)]
    return result, (max(ids) + 1 if ids else offset)


class ImapClient(Protocol):
    """The part of ``imaplib.IMAP4`` the poller uses (tests pass a fake)."""

    def select(self, mailbox: str = ..., readonly: bool = ...) -> tuple[str, list[Any]]: ...

    def uid(self, command: str, *args: str) -> tuple[str, list[Any]]: ...


def _fetched_bytes(data: list[Any]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes | bytearray):
            return bytes(item[1])
    return None


def poll_imap(
    imap_client: ImapClient,
    mailbox: str,
    last_uid: int | None,
    *,
    address: str | None = None,
    limit: int = 50,
) -> tuple[ParseResult, int | None]:
    """Messages in IMAP `mailbox` (folder) with UID above `last_uid`, at most `limit` per call.

    `address` is our email address (account_ref and echo detection). Uses BODY.PEEK so polling
    leaves messages unread for people who also use the mailbox. The cursor is only valid while
    the folder's UIDVALIDITY stays the same; the caller resets it when that changes.
    """
    status, _ = imap_client.select(mailbox, readonly=True)
    if status != "OK":
        raise PollError(f"IMAP could not open folder {mailbox!r}", retryable=False)
    start = (last_uid or 0) + 1
    status, data = imap_client.uid("SEARCH", "UID", f"{start}:*")
    if status != "OK":
        raise PollError("IMAP UID SEARCH failed")
    found: list[int] = []
    for chunk in data:
        if isinstance(chunk, bytes | bytearray):
            found.extend(int(v) for v in chunk.split() if v.isdigit())
    # "n:*" always matches the newest message even when its UID is below n.
    uids = sorted(u for u in set(found) if u >= start)[:limit]
    result = ParseResult()
    newest = last_uid
    for uid in uids:
        status, fetched = imap_client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if status != "OK":
            raise PollError(f"IMAP FETCH of uid {uid} failed")
        raw = _fetched_bytes(fetched)
        newest = uid
        if raw is None:
            result.errors.append(f"uid {uid}: message vanished before it could be fetched")
            continue
        parsed = email_channel.parse_message(raw, address)
        result.events.extend(parsed.events)
        result.statuses.extend(parsed.statuses)
        result.ignored.extend(f"uid {uid}: {item}" for item in parsed.ignored)
        result.errors.extend(f"uid {uid}: {item}" for item in parsed.errors)
    return result, newest
