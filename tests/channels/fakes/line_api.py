"""An in-memory LINE Messaging API (reply + push) behind httpx.MockTransport.

Usage::

    api = FakeLineApi()
    token = api.issue_reply_token()           # valid once; api.expire(token) to age it out
    sender = LineSender(transport=api.transport, base_url=api.base_url)
    api.fail_next("rate_limit")               # monthly_limit / expired_token / server_error /
                                              # timeout / timeout_after_accept

Reply tokens are single use. Push honours ``X-Line-Retry-Key`` like LINE: a key already
accepted answers 409 with ``x-line-accepted-request-id`` and the first ``sentMessages``, so a
retry never delivers twice. ``.delivered`` lists what really reached a user; ``.calls`` every
request.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Call:
    method: str
    path: str
    json: Any
    headers: dict[str, str]


@dataclass
class FakeLineApi:
    access_token: str = "line-channel-token"
    base_url: str = "https://api.line.test"
    calls: list[Call] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    _reply_tokens: set[str] = field(default_factory=set)
    _retry_keys: dict[str, tuple[str, list[dict[str, str]]]] = field(default_factory=dict)
    _failures: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(480_000_000_000_000))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def issue_reply_token(self) -> str:
        token = uuid.uuid4().hex
        self._reply_tokens.add(token)
        return token

    def expire(self, reply_token: str) -> None:
        self._reply_tokens.discard(reply_token)

    def fail_next(self, kind: str, times: int = 1) -> None:
        """rate_limit, monthly_limit, expired_token, server_error, timeout, timeout_after_accept."""
        self._failures.extend([kind] * times)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.calls.append(Call(request.method, request.url.path, body, dict(request.headers)))
        failure = self._failures.pop(0) if self._failures else None
        if failure and failure != "timeout_after_accept":
            return _failure(failure, request)
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return _message(
                401,
                "Authentication failed. Confirm that the access token in the authorization header is valid.",
            )
        if request.url.path == "/v2/bot/message/reply":
            response = self._reply(request, body)
        elif request.url.path == "/v2/bot/message/push":
            response = self._push(request, body)
        else:
            response = _message(404, "Not found")
        if failure == "timeout_after_accept":
            raise httpx.ReadTimeout("timed out", request=request)
        return response

    def _sent(self, to: str, messages: list[dict[str, Any]]) -> list[dict[str, str]]:
        sent = []
        for m in messages:
            self.delivered.append({"to": to, **m})
            sent.append({"id": str(next(self._ids)), "quoteToken": uuid.uuid4().hex})
        return sent

    def _reply(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        if "x-line-retry-key" in request.headers:
            return _message(400, "The retry key cannot be used with this API")
        token = body.get("replyToken")
        if token not in self._reply_tokens:
            return _message(400, "Invalid reply token")
        self._reply_tokens.discard(token)
        sent = self._sent(f"reply:{token}", body.get("messages") or [])
        return httpx.Response(
            200, json={"sentMessages": sent}, headers={"x-line-request-id": uuid.uuid4().hex}
        )

    def _push(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        if not body.get("to"):
            return _message(
                400, "The request body has 1 error(s)", [{"message": "Must not be empty", "property": "to"}]
            )
        key = request.headers.get("x-line-retry-key")
        if key is not None:
            try:
                uuid.UUID(key)
            except ValueError:
                return _message(400, "The retry key is not a valid UUID")
            if key in self._retry_keys:
                request_id, sent = self._retry_keys[key]
                return httpx.Response(
                    409,
                    json={"message": "The retry key is already accepted", "sentMessages": sent},
                    headers={"x-line-accepted-request-id": request_id},
                )
        request_id = uuid.uuid4().hex
        sent = self._sent(str(body["to"]), body.get("messages") or [])
        if key is not None:
            self._retry_keys[key] = (request_id, sent)
        return httpx.Response(200, json={"sentMessages": sent}, headers={"x-line-request-id": request_id})


def _message(status: int, message: str, details: list[dict[str, str]] | None = None) -> httpx.Response:
    payload: dict[str, Any] = {"message": message}
    if details:
        payload["details"] = details
    return httpx.Response(status, json=payload)


def _failure(kind: str, request: httpx.Request) -> httpx.Response:
    if kind == "timeout":
        raise httpx.ReadTimeout("timed out", request=request)
    if kind == "rate_limit":
        return httpx.Response(429, json={"message": "Too Many Requests"}, headers={"Retry-After": "3"})
    if kind == "monthly_limit":
        return _message(429, "You have reached your monthly limit.")
    if kind == "expired_token":
        return _message(
            401, "Authentication failed. Confirm that the access token in the authorization header is valid."
        )
    if kind == "server_error":
        return _message(500, "Internal server error")
    raise ValueError(f"unknown failure kind {kind!r}")
