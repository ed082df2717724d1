"""Request size limits: a body over the limit is refused with 413 before it is buffered.

`BodyLimitMiddleware` guards every route of the app (webhooks, API, forms, web chat, login). A
declared ``Content-Length`` over the limit is refused before the app runs; a chunked body (no
``Content-Length``) is counted while it streams, and the read that would take the app past the
limit raises `BodyTooLarge` instead of handing it the bytes, so no route can buffer more than the
limit whatever it does with the body. It is a pure ASGI middleware: Starlette's
``BaseHTTPMiddleware`` would itself read the body through another channel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the body passes the limit.

    An HTTPException, so FastAPI's body parsing lets it through unchanged (anything else it turns
    into a 400) and the app's handler answers it with the usual JSON ``{"detail": ...}``.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_detail(limit))


def too_large_detail(limit: int) -> str:
    return f"payload larger than {limit} bytes"


def declared_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    """The largest Content-Length the request declares; ValueError when one is not a number."""
    found: int | None = None
    for name, value in headers:
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isdigit():
                raise ValueError(text)
            found = max(found or 0, int(text))
    return found


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is never read: the connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# The requests that carry files: a reply with its attachments, from the page or the API
# (conversations.attachments bounds them further, file by file).
UPLOAD_PATH = re.compile(r"/conversations/\d{1,12}/reply|/api/v1/conversations/\d{1,12}/reply-files")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit or limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if UPLOAD_PATH.fullmatch(str(scope.get("path", ""))) else self.limit
        try:
            declared = declared_length(scope.get("headers") or [])
        except ValueError:
            await _answer(send, 400, "Content-Length is not a number")
            return
        if declared is not None and declared > limit:
            await _answer(send, 413, too_large_detail(limit))
            return

        received = 0
        over = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, over
            if over:
                return _refusal(started, limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return _refusal(started, limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # A route that caught nothing: answer here, unless it already began its answer.
            if started:
                raise
            await _answer(send, 413, too_large_detail(limit))


def _refusal(started: bool, limit: int) -> Message:
    if started:
        # The answer is under way (a stream that listens for the client going away): end it
        # as if the client left, rather than failing a response that is half sent.
        return {"type": "http.disconnect"}
    raise BodyTooLarge(limit)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 past `limit` (a route's own limit may be below the app's)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPException(status_code=413, detail=too_large_detail(limit))
        except ValueError as exc:
            raise HTTPException(status_code=400, detail="Content-Length is not a number") from exc
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status_code=413, detail=too_large_detail(limit))
        chunks.append(chunk)
    return b"".join(chunks)
