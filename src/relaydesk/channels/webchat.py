"""The web-chat widget's HTTP side: its script, CORS, request bodies, rate limits and the routes.

A visitor is known by a signed token (webchat_tokens.py); what a visitor reads and writes is in
webchat_visitors.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from relaydesk.channels import webchat_visitors as visitors
from relaydesk.channels.base import InboundEvent
from relaydesk.channels.webchat_limits import TokenBucket, WebchatLimits, default_limits
from relaydesk.channels.webchat_tokens import CLIENT_ID, TokenError, read_visitor_token, sign_visitor_token
from relaydesk.channels.webchat_visitors import VisitorMessage, Widget
from relaydesk.core.enums import Network
from relaydesk.deps import get_container

router = APIRouter(tags=["webchat"])

WIDGET_FILE = Path(__file__).resolve().parents[1] / "web" / "static" / "widget.js"
MAX_BODY_BYTES = 16 * 1024
MAX_TEXT_CHARS = 4000
MAX_WAIT_SECONDS = 20
POLL_AFTER_MS = 2500

T = TypeVar("T", bound=BaseModel)


# -- rate limits, origin, body --------------------------------------------------------------


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


def _cors(request: Request, widget: Widget) -> dict[str, str]:
    """CORS headers for an allowed origin; 403 for a page the account did not list."""
    origin = request.headers.get("origin")
    if origin is None:
        # Not a cross-origin browser call (same-origin page, server, curl): nothing to grant.
        return {}
    if widget.allowed_origins and "*" not in widget.allowed_origins:
        if visitors.normal_origin(origin) not in widget.allowed_origins:
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


class MessagesOut(BaseModel):
    messages: list[VisitorMessage]
    last_id: int = Field(
        description="pass as `after` on the next fetch; it stays before a reply still waiting for approval"
    )


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
    widget = await run_in_threadpool(visitors.load_widget, container, account_id)
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
    widget = await run_in_threadpool(visitors.load_widget, container, account_id)
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
            visitors.open_session, container, widget, known, body.name, body.email
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
    widget = await run_in_threadpool(visitors.load_widget, container, account_id)
    cors = _cors(request, widget)
    body = await _read_body(request, MessageIn, cors)
    key = await run_in_threadpool(
        visitors.authenticate, container, widget, _bearer(request) or body.token, cors
    )
    if not CLIENT_ID.fullmatch(body.id):
        raise HTTPException(status_code=422, detail="id: 8 to 64 letters, digits, '-' or '_'", headers=cors)
    if not body.text.strip():
        raise HTTPException(status_code=422, detail="text: must not be blank", headers=cors)
    _throttle(_limits(request).messages, f"{account_id}:{key}", cors)
    name, email = await run_in_threadpool(visitors.profile, container, widget, key)
    origin = request.headers.get("origin")
    event = InboundEvent(
        network=Network.WEBCHAT.value,
        external_id=visitors.external_prefix(key) + body.id,
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
    widget = await run_in_threadpool(visitors.load_widget, container, account_id)
    cors = _cors(request, widget)
    key = await run_in_threadpool(visitors.authenticate, container, widget, _bearer(request), cors)
    _throttle(_limits(request).polls, f"{account_id}:{key}", cors)
    deadline = time.monotonic() + wait
    newest_seen = max(after, seen)
    while True:
        found, last = await run_in_threadpool(visitors.fetch, container, widget, key, after)
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
