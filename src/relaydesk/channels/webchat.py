"""The web-chat widget: its script, visitor sessions, and the visitor's side of the conversation.

A visitor is known by a random key inside a token signed (HMAC-SHA256) with the account's
`widget_secret`; the browser keeps the token in localStorage, so a returning visitor keeps their
identity and conversation across page loads. There is no network to deliver agent replies to:
the widget fetching them is the delivery, and they are marked delivered when it does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from relaydesk.auth.crypto import SecretKeyMissing
from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.core.enums import DeliveryStatus, Direction, Network
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import transaction
from relaydesk.deps import get_container
from relaydesk.models import (
    ChannelAccount,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    User,
    WebchatVisitor,
)
from relaydesk.models.upsert import insert_ignore

router = APIRouter(tags=["webchat"])

WIDGET_FILE = Path(__file__).resolve().parents[1] / "web" / "static" / "widget.js"
TOKEN_VERSION = "v1"
TOKEN_MAX_AGE_SECONDS = 400 * 24 * 3600  # a browser returning within a good year keeps its chat
MAX_BODY_BYTES = 16 * 1024
MAX_TEXT_CHARS = 4000
MAX_WAIT_SECONDS = 20
PAGE_SIZE = 100
POLL_AFTER_MS = 2500
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Replies the visitor must not see: held for approval, or turned down by a manager.
HIDDEN_STATUSES = ("draft", "rejected")
ALREADY_DELIVERED = (DeliveryStatus.DELIVERED.value, DeliveryStatus.READ.value)

T = TypeVar("T", bound=BaseModel)


# -- visitor tokens (pure) -----------------------------------------------------------------


class TokenError(Exception):
    """The token was not issued by this account's widget, is malformed, or is too old."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest())


def sign_visitor_token(secret: str, account_id: int, visitor_key: str, issued_at: int) -> str:
    payload = _b64(
        json.dumps({"a": account_id, "v": visitor_key, "t": issued_at}, separators=(",", ":")).encode()
    )
    body = f"{TOKEN_VERSION}.{payload}"
    return f"{body}.{_mac(secret, body)}"


def read_visitor_token(secret: str, token: str, account_id: int, now: float) -> str:
    """The visitor key inside a token this account's widget issued; TokenError otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION or len(token) > 512:
        raise TokenError("malformed visitor token")
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(secret, body), parts[2]):
        raise TokenError("visitor token signature does not match")
    try:
        data = json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error) as exc:
        raise TokenError("malformed visitor token") from exc
    if not isinstance(data, dict) or data.get("a") != account_id:
        raise TokenError("visitor token belongs to another widget")
    key, issued = data.get("v"), data.get("t")
    if not isinstance(key, str) or not CLIENT_ID.fullmatch(key) or not isinstance(issued, int):
        raise TokenError("malformed visitor token")
    if now - issued > TOKEN_MAX_AGE_SECONDS:
        raise TokenError("visitor token expired")
    return key


# -- rate limits (in memory, per process) --------------------------------------------------


class TokenBucket:
    """Per-key token buckets; the oldest keys are forgotten beyond `max_keys` to bound memory."""

    def __init__(
        self,
        capacity: float,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed; otherwise the seconds to wait before the next attempt can pass."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.per_second)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            elif self.per_second > 0:
                wait = (1 - tokens) / self.per_second
            else:
                wait = float("inf")
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


@dataclass
class WebchatLimits:
    sessions: TokenBucket  # new visitors per client address
    messages: TokenBucket  # messages per visitor
    polls: TokenBucket  # fetches per visitor


def default_limits() -> WebchatLimits:
    return WebchatLimits(
        sessions=TokenBucket(capacity=30, per_second=0.5),
        messages=TokenBucket(capacity=8, per_second=0.5),
        polls=TokenBucket(capacity=30, per_second=1.0),
    )


def _limits(request: Request) -> WebchatLimits:
    state = request.app.state
    limits = getattr(state, "webchat_limits", None)
    if limits is None:
        limits = default_limits()
        state.webchat_limits = limits
    assert isinstance(limits, WebchatLimits)
    return limits


def _throttle(bucket: TokenBucket, key: str, cors: dict[str, str]) -> None:
    wait = bucket.take(key)
    if wait > 0:
        retry = "60" if wait == float("inf") else str(max(1, int(wait + 0.999)))
        raise HTTPException(
            status_code=429, detail="too many requests; slow down", headers={**cors, "Retry-After": retry}
        )


# -- account, origin, body -----------------------------------------------------------------


@dataclass(frozen=True)
class Widget:
    account_id: int
    org_id: int
    secret: str
    allowed_origins: frozenset[str]  # empty: any origin


def _normal_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def _load_widget(container: Container, account_id: int) -> Widget:
    with container.sessions() as session:
        account = session.get(ChannelAccount, account_id)
        if account is None or account.network != Network.WEBCHAT.value or not account.active:
            raise HTTPException(status_code=404, detail=f"no web chat {account_id}")
        org_id, sealed, settings = account.org_id, account.credentials_encrypted, dict(account.settings or {})
    try:
        secret = container.box.open(sealed).get("widget_secret")
    except SecretKeyMissing as exc:
        raise HTTPException(status_code=503, detail="web chat is not configured correctly") from exc
    if not isinstance(secret, str) or not secret:
        raise HTTPException(status_code=503, detail="web chat has no widget_secret configured")
    origins = settings.get("allowed_origins") or []
    allowed = (
        frozenset(_normal_origin(o) for o in origins if isinstance(o, str))
        if isinstance(origins, list)
        else frozenset()
    )
    return Widget(account_id=account_id, org_id=org_id, secret=secret, allowed_origins=allowed)


def _cors(request: Request, widget: Widget) -> dict[str, str]:
    """CORS headers for an allowed origin; 403 for a page the account did not list."""
    origin = request.headers.get("origin")
    if origin is None:
        # Not a cross-origin browser call (same-origin page, server, curl): nothing to grant.
        return {}
    if widget.allowed_origins and "*" not in widget.allowed_origins:
        if _normal_origin(origin) not in widget.allowed_origins:
            raise HTTPException(status_code=403, detail="this web chat is not enabled for this website")
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


async def _read_body(request: Request, model: type[T], cors: dict[str, str]) -> T:
    declared = request.headers.get("content-length")
    too_big = HTTPException(status_code=413, detail=f"body larger than {MAX_BODY_BYTES} bytes", headers=cors)
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_big
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise too_big
    try:
        return model.model_validate_json(bytes(data) or b"{}")
    except ValidationError as exc:
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or 'body'}: {e.get('msg', 'invalid')}"
            for e in exc.errors()[:5]
        )
        raise HTTPException(status_code=422, detail=summary, headers=cors) from None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


# -- the visitor's data ---------------------------------------------------------------------


def _visitor_exists(container: Container, widget: Widget, key: str) -> bool:
    with container.sessions() as session:
        found = session.execute(
            select(WebchatVisitor.id).where(
                WebchatVisitor.account_id == widget.account_id, WebchatVisitor.visitor_key == key
            )
        ).first()
    return found is not None


def _visitor(container: Container, widget: Widget, token: str | None, cors: dict[str, str]) -> str:
    if not token:
        raise HTTPException(
            status_code=401, detail="send the visitor token (Authorization: Bearer <token>)", headers=cors
        )
    try:
        key = read_visitor_token(widget.secret, token, widget.account_id, time.time())
    except TokenError as exc:
        raise HTTPException(status_code=403, detail=f"{exc}; start a new session", headers=cors) from None
    if not _visitor_exists(container, widget, key):
        raise HTTPException(status_code=403, detail="unknown visitor; start a new session", headers=cors)
    return key


def _open_session(
    container: Container, widget: Widget, key: str | None, name: str | None, email: str | None
) -> tuple[str, bool]:
    """The visitor key (a new one when `key` is None) and whether the visitor was known."""
    now = utcnow()
    with transaction(container.sessions) as session:
        if key is not None:
            visitor = session.scalars(
                select(WebchatVisitor).where(
                    WebchatVisitor.account_id == widget.account_id, WebchatVisitor.visitor_key == key
                )
            ).first()
            if visitor is None:
                raise HTTPException(status_code=403, detail="unknown visitor; start a new session")
            visitor.last_seen_at = now
            if name:
                visitor.name = name
            if email:
                visitor.email = email
            return key, True
        key = secrets.token_urlsafe(18)
        insert_ignore(
            session,
            WebchatVisitor.__table__,
            {
                "account_id": widget.account_id,
                "visitor_key": key,
                "name": name,
                "email": email,
                "created_at": now,
                "last_seen_at": now,
            },
            ["account_id", "visitor_key"],
        )
        return key, False


def _visitor_profile(container: Container, widget: Widget, key: str) -> tuple[str | None, str | None]:
    with container.sessions() as session:
        row = session.execute(
            select(WebchatVisitor.name, WebchatVisitor.email).where(
                WebchatVisitor.account_id == widget.account_id, WebchatVisitor.visitor_key == key
            )
        ).first()
    return (row[0], row[1]) if row else (None, None)


def _external_prefix(key: str) -> str:
    # Message ids are namespaced by visitor: a client-chosen id can never land on (and reveal)
    # another visitor's message through the pipeline's duplicate check.
    return f"{key}:"


def _conversations_of(container: Container, widget: Widget, key: str) -> list[int]:
    with container.sessions() as session:
        contact_id = session.execute(
            select(ContactIdentity.contact_id).where(
                ContactIdentity.org_id == widget.org_id,
                ContactIdentity.network == Network.WEBCHAT.value,
                ContactIdentity.external_user_id == key,
            )
        ).scalar()
        if contact_id is None:
            return []
        # The pipeline threads onto the surviving contact of a merge; follow the same chain.
        for _ in range(10):
            merged = session.execute(select(Contact.merged_into_id).where(Contact.id == contact_id)).scalar()
            if merged is None:
                break
            contact_id = merged
        own = aliased(Message)
        return list(
            session.scalars(
                select(Conversation.id).where(
                    Conversation.account_id == widget.account_id,
                    Conversation.contact_id == contact_id,
                    # Only conversations this visitor wrote in: a merge must not show a visitor
                    # the replies meant for someone else's browser.
                    exists().where(
                        own.conversation_id == Conversation.id,
                        own.direction == Direction.INBOUND.value,
                        own.external_id.startswith(_external_prefix(key), autoescape=True),
                    ),
                )
            )
        )


class VisitorMessage(BaseModel):
    id: int
    sender: str = Field(description="visitor or agent")
    text: str
    author: str | None = Field(description="the agent's first name for agent messages")
    client_id: str | None = Field(description="the id the widget gave its own message")
    sent_at: datetime


class MessagesOut(BaseModel):
    messages: list[VisitorMessage]
    last_id: int = Field(
        description="pass as `after` on the next fetch; it stays before a reply still waiting for approval"
    )


def _fetch(container: Container, widget: Widget, key: str, after: int) -> tuple[list[VisitorMessage], int]:
    """The visitor's messages after `after`, and the id to continue from."""
    conversation_ids = _conversations_of(container, widget, key)
    if not conversation_ids:
        return [], after
    prefix = _external_prefix(key)
    with transaction(container.sessions) as session:
        rows = list(
            session.scalars(
                select(Message)
                .where(
                    Message.conversation_id.in_(conversation_ids),
                    Message.account_id == widget.account_id,
                    Message.id > after,
                    # Internal notes never leave the desk.
                    Message.direction.in_((Direction.INBOUND.value, Direction.OUTBOUND.value)),
                )
                .order_by(Message.id)
                .limit(PAGE_SIZE)
            )
        )
        visible = [
            m
            for m in rows
            if (m.direction == Direction.INBOUND.value and (m.external_id or "").startswith(prefix))
            or (m.direction == Direction.OUTBOUND.value and m.delivery_status not in HIDDEN_STATUSES)
        ]
        authors = {m.author_user_id for m in visible if m.author_user_id}
        names = (
            {
                u.id: (u.name.split() or [""])[0]
                for u in session.scalars(select(User).where(User.id.in_(authors)))
            }
            if authors
            else {}
        )
        out = []
        for m in visible:
            inbound = m.direction == Direction.INBOUND.value
            if not inbound and m.delivery_status not in ALREADY_DELIVERED:
                m.delivery_status = DeliveryStatus.DELIVERED.value
                m.delivery_error = None
            out.append(
                VisitorMessage(
                    id=m.id,
                    sender="visitor" if inbound else "agent",
                    text=m.text,
                    author=None if inbound else names.get(m.author_user_id or 0) or None,
                    client_id=(m.external_id or "")[len(prefix) :] if inbound else None,
                    sent_at=as_utc(m.sent_at) or m.sent_at,
                )
            )
        # The cursor passes rows hidden for good (rejected drafts, someone else's words after a
        # merge) but stops before a reply waiting for approval: approving keeps its id.
        cursor = after
        for m in rows:
            if m.direction == Direction.OUTBOUND.value and m.delivery_status == "draft":
                break
            cursor = m.id
        return out, cursor


# -- endpoints --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _widget_script() -> tuple[bytes, str]:
    body = WIDGET_FILE.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get("/webchat/widget.js", include_in_schema=False)
def widget_js(request: Request) -> Response:
    body, etag = _widget_script()
    headers = {
        "Cache-Control": "public, max-age=3600",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        # Any site embedding the widget may load it: it holds no secret.
        "Access-Control-Allow-Origin": "*",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.options("/webchat/{account_id}/{endpoint}", include_in_schema=False)
async def preflight(account_id: int, endpoint: str, request: Request) -> Response:
    if endpoint not in ("session", "messages"):
        raise HTTPException(status_code=404, detail="not found")
    container = get_container(request)
    widget = await run_in_threadpool(_load_widget, container, account_id)
    cors = _cors(request, widget)
    return Response(
        status_code=204,
        headers={
            **cors,
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        },
    )


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    token: str | None = Field(default=None, max_length=512, description="the token stored by this browser")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SessionOut(BaseModel):
    token: str
    visitor: str
    returning: bool
    poll_after_ms: int = POLL_AFTER_MS
    long_poll_seconds: int = MAX_WAIT_SECONDS


@router.post("/webchat/{account_id}/session", response_model=SessionOut)
async def open_session(account_id: int, request: Request, response: Response) -> SessionOut:
    container = get_container(request)
    widget = await run_in_threadpool(_load_widget, container, account_id)
    cors = _cors(request, widget)
    body = await _read_body(request, SessionIn, cors)
    token = body.token or _bearer(request)
    known: str | None = None
    if token:
        try:
            known = read_visitor_token(widget.secret, token, account_id, time.time())
        except TokenError as exc:
            raise HTTPException(status_code=403, detail=f"{exc}; start a new session", headers=cors) from None
    else:
        client = request.client.host if request.client else "unknown"
        _throttle(_limits(request).sessions, f"{account_id}:{client}", cors)
    try:
        key, returning = await run_in_threadpool(
            _open_session, container, widget, known, body.name, body.email
        )
    except HTTPException as exc:
        raise HTTPException(status_code=exc.status_code, detail=exc.detail, headers=cors) from None
    response.headers.update(cors)
    response.headers["Cache-Control"] = "no-store"
    return SessionOut(
        token=sign_visitor_token(widget.secret, account_id, key, int(time.time())),
        visitor=key,
        returning=returning,
    )


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(default=None, max_length=512)
    id: str = Field(description="an id the widget makes up per message; a retry sends the same one")
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class MessageAccepted(BaseModel):
    id: int
    client_id: str
    duplicate: bool


@router.post("/webchat/{account_id}/messages", response_model=MessageAccepted, status_code=201)
async def post_message(account_id: int, request: Request, response: Response) -> MessageAccepted:
    container = get_container(request)
    widget = await run_in_threadpool(_load_widget, container, account_id)
    cors = _cors(request, widget)
    body = await _read_body(request, MessageIn, cors)
    key = await run_in_threadpool(_visitor, container, widget, _bearer(request) or body.token, cors)
    if not CLIENT_ID.fullmatch(body.id):
        raise HTTPException(status_code=422, detail="id: 8 to 64 letters, digits, '-' or '_'", headers=cors)
    if not body.text.strip():
        raise HTTPException(status_code=422, detail="text: must not be blank", headers=cors)
    _throttle(_limits(request).messages, f"{account_id}:{key}", cors)
    name, email = await run_in_threadpool(_visitor_profile, container, widget, key)
    origin = request.headers.get("origin")
    event = InboundEvent(
        network=Network.WEBCHAT.value,
        external_id=_external_prefix(key) + body.id,
        author_id=key,
        text=body.text,
        author_name=name or "Website visitor",
        kind="message",
        raw={"visitor": key, "client_id": body.id, **({"origin": origin} if origin else {})},
        contact_attributes={"email": email} if email else {},
    )
    accepted = await run_in_threadpool(container.pipeline.accept, account_id, event)
    response.headers.update(cors)
    if accepted.duplicate:
        response.status_code = 200
    return MessageAccepted(id=accepted.message_id, client_id=body.id, duplicate=accepted.duplicate)


@router.get("/webchat/{account_id}/messages", response_model=MessagesOut)
async def get_messages(
    account_id: int,
    request: Request,
    response: Response,
    after: Annotated[int, Query(ge=0, description="the last message id the widget has")] = 0,
    wait: Annotated[
        int, Query(ge=0, le=MAX_WAIT_SECONDS, description="long-poll up to this many seconds")
    ] = 0,
    seen: Annotated[int, Query(ge=0, description="the highest message id the widget shows")] = 0,
) -> MessagesOut:
    container = get_container(request)
    widget = await run_in_threadpool(_load_widget, container, account_id)
    cors = _cors(request, widget)
    key = await run_in_threadpool(_visitor, container, widget, _bearer(request), cors)
    _throttle(_limits(request).polls, f"{account_id}:{key}", cors)
    deadline = time.monotonic() + wait
    newest_seen = max(after, seen)
    while True:
        found, last = await run_in_threadpool(_fetch, container, widget, key, after)
        if (
            any(m.id > newest_seen for m in found)
            or time.monotonic() >= deadline
            or await request.is_disconnected()
        ):
            break
        # Polling the database (not the bus) works the same in every deployment mode.
        await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    response.headers.update(cors)
    response.headers["Cache-Control"] = "no-store"
    return MessagesOut(messages=found, last_id=last)
