"""An in-memory Telegram Bot API behind httpx.MockTransport.

Usage::

    api = FakeTelegramApi()                       # api.token == "123456:TEST-secret-token"
    api.push_message(chat_id=42, text="hello")    # queued for getUpdates
    sender = TelegramSender(transport=api.transport, base_url=api.base_url)
    api.fail_next("rate_limit", retry_after=7)
    # other kinds: expired_token, blocked, server_error, timeout, conflict

Serves ``/bot<token>/getUpdates`` (offset confirms and forgets earlier updates, like Telegram)
and ``/bot<token>/sendMessage``; errors use ``{"ok": false, "error_code", "description",
"parameters"}``. ``.calls`` records every request, ``.sent`` every accepted message.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.channels.fakes.multipart import form_of, is_multipart


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    json: Any


@dataclass
class FakeTelegramApi:
    token: str = "123456:TEST-secret-token"
    base_url: str = "https://api.telegram.test"
    calls: list[Call] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[tuple[str, int]] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(500_000))
    _message_ids: dict[int, int] = field(default_factory=dict)
    # Customers' files: file_id -> file_path (getFile), file_path -> bytes (the file address)
    file_paths: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def add_customer_file(self, file_id: str, path: str, data: bytes) -> None:
        self.file_paths[file_id] = path
        self.files[path] = data

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":")[0])

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, base_url=self.base_url)

    def fail_next(self, kind: str, times: int = 1, *, retry_after: int = 5) -> None:
        """Upcoming requests fail: rate_limit, expired_token, blocked, server_error, timeout, conflict."""
        self._failures.extend([(kind, retry_after)] * times)

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def push_update(self, **payload: Any) -> int:
        update_id = next(self._update_ids)
        self.pending.append({"update_id": update_id, **payload})
        return update_id

    def push_message(
        self, chat_id: int = 42, text: str = "hello", user_id: int = 42, chat_type: str = "private"
    ) -> int:
        """Queue a customer's message; returns its update_id."""
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = "Customer"
        else:
            chat["title"] = "Support group"
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": {"id": user_id, "is_bot": False, "first_name": "Customer", "username": f"user{user_id}"},
            "chat": chat,
            "date": 1_714_557_600,
            "text": text,
        }
        return self.push_update(message=message)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        multipart = is_multipart(request)
        body = form_of(request) if multipart else json.loads(request.content) if request.content else None
        self.calls.append(Call(request.method, request.url.path, dict(request.url.params), body))
        if self._failures:
            kind, retry_after = self._failures.pop(0)
            return _failure(kind, retry_after, request)
        if request.url.path.startswith(f"/file/bot{self.token}/"):
            found = self.files.get(request.url.path.split(f"/file/bot{self.token}/", 1)[1])
            return httpx.Response(200, content=found) if found is not None else _error(404, "Not Found")
        prefix, _, method = request.url.path.rpartition("/")
        if prefix != f"/bot{self.token}":
            return _error(401, "Unauthorized")
        if method == "getUpdates":
            return self._get_updates(request.url.params)
        if method == "getFile":
            file_id = request.url.params.get("file_id", "")
            path = self.file_paths.get(file_id)
            if path is None:
                return _error(400, "Bad Request: invalid file_id")
            return httpx.Response(
                200,
                json={
                    "ok": True,
                    "result": {"file_id": file_id, "file_size": len(self.files[path]), "file_path": path},
                },
            )
        if method == "sendMessage":
            return self._send_message(body or {})
        if method in ("sendPhoto", "sendDocument") and multipart:
            return self._send_file(body or {}, "photo" if method == "sendPhoto" else "document")
        return _error(404, "Not Found")

    def _send_file(self, form: dict[str, Any], field: str) -> httpx.Response:
        """sendPhoto / sendDocument with the file uploaded as multipart/form-data."""
        if form.get("chat_id") in (None, ""):
            return _error(400, "Bad Request: chat_id is empty")
        upload = form.get(field)
        if not isinstance(upload, dict) or not upload.get("data"):
            return _error(400, f"Bad Request: there is no {field} in the request")
        caption = str(form.get("caption") or "")
        if len(caption) > 1024:
            return _error(400, "Bad Request: message caption is too long")
        chat = int(form["chat_id"])
        file_id = f"file-{len(self.sent) + 1}"
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat),
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Brand", "username": "brand_bot"},
            "chat": {"id": chat, "type": "private"},
            "date": 1_714_557_700,
            **({"caption": caption} if caption else {}),
        }
        if field == "photo":
            message["photo"] = [
                {"file_id": file_id, "file_unique_id": file_id, "file_size": len(upload["data"])}
            ]
        else:
            message["document"] = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": upload["filename"],
                "mime_type": upload["content_type"],
                "file_size": len(upload["data"]),
            }
        message["uploaded"] = upload  # for the tests: what arrived (not part of the Bot API's answer)
        self.sent.append(message)
        answer = {k: v for k, v in message.items() if k != "uploaded"}
        return httpx.Response(200, json={"ok": True, "result": answer})

    def _get_updates(self, params: httpx.QueryParams) -> httpx.Response:
        offset = int(params.get("offset", "0"))
        limit = int(params.get("limit", "100"))
        if offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        return httpx.Response(200, json={"ok": True, "result": self.pending[:limit]})

    def _send_message(self, body: dict[str, Any]) -> httpx.Response:
        chat_id = body.get("chat_id")
        if chat_id in (None, ""):
            return _error(400, "Bad Request: chat_id is empty")
        if not body.get("text"):
            return _error(400, "Bad Request: message text is empty")
        chat = int(chat_id)
        message = {
            "message_id": self._next_message_id(chat),
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Brand", "username": "brand_bot"},
            "chat": {"id": chat, "type": "private"},
            "date": 1_714_557_700,
            "text": body["text"],
        }
        reply = body.get("reply_parameters")
        if reply:
            message["reply_to_message"] = {"message_id": reply["message_id"], "chat": {"id": chat}}
        self.sent.append(message)
        return httpx.Response(200, json={"ok": True, "result": message})


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> httpx.Response:
    payload: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        payload["parameters"] = parameters
    return httpx.Response(code, json=payload)


def _failure(kind: str, retry_after: int, request: httpx.Request) -> httpx.Response:
    if kind == "timeout":
        raise httpx.ReadTimeout("timed out", request=request)
    if kind == "rate_limit":
        return _error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
    if kind == "expired_token":
        return _error(401, "Unauthorized")
    if kind == "blocked":
        return _error(403, "Forbidden: bot was blocked by the user")
    if kind == "server_error":
        return _error(502, "Bad Gateway")
    if kind == "conflict":
        return _error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook")
    raise ValueError(f"unknown failure kind {kind!r}")
