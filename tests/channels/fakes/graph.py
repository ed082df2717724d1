"""A fake Graph API (Messenger Send API, comment replies, Instagram, WhatsApp Cloud API).

Instagram mentions, as the Instagram Mentions guide documents them: register what another user
posted with ``add_mentioned_media(ig_user, media_id, caption=..., username=...)`` /
``add_mentioned_comment(...)``; then ``GET /{ig-user-id}?fields=mentioned_media.media_id(<id>)
{<fields>}`` answers ``{"mentioned_media": {<the fields asked for>, "id"}, "id": <ig-user-id>}``
(``mentioned_comment.comment_id(...)`` likewise), an unknown id is error 100 / subcode 33, and
``POST /{ig-user-id}/mentions`` (``media_id``, ``message``, ``comment_id``?) comments there.
Those media are someone else's: ``/{media-id}/comments`` and ``/{comment-id}/replies`` on them
are refused (error 100), as Instagram refuses comments through those edges on media we don't own.

Plug it into the sender through its transport::

    graph = FakeGraph()
    sender = GraphSender(transport=graph.transport)
    graph.queue_failures("rate_limit", "timeout")   # the next two calls fail, then success
    ...
    assert len(graph.delivered) == 1                # what a customer actually received

Every call is recorded in ``calls`` (whatever its outcome); ``delivered`` holds the calls the
"network" accepted, including ``timeout_after_delivery`` ones whose response got lost: an
exactly-once test asserts on ``delivered``, not on what the sender was told.

Failure kinds (errors follow Graph's documented shape ``{"error": {"message", "type", "code",
"error_subcode"?, "error_data"?, "fbtrace_id"}}``):

- ``rate_limit``: HTTP 429, ``Retry-After`` header, code 4 "Application request limit reached"
- ``token_expired``: HTTP 401, code 190 subcode 463 (OAuthException)
- ``window_closed``: HTTP 400, WhatsApp code 131047 "Re-engagement message"
- ``messenger_window_closed``: HTTP 400, code 10 subcode 2018278 (outside the 24 h window)
- ``undeliverable``: HTTP 400, WhatsApp code 131026
- ``already_replied``: HTTP 400, code 10900 (private reply already sent)
- ``bad_request``: HTTP 400, code 100 "Invalid parameter"
- ``server_error``: HTTP 500, code 2, ``is_transient``
- ``timeout``: raises ``httpx.ReadTimeout`` before anything is delivered
- ``timeout_after_delivery``: delivers, then raises ``httpx.ReadTimeout`` (response lost)
- ``connect_error``: raises ``httpx.ConnectError`` (nothing delivered)
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.channels.fakes.multipart import form_of, is_multipart

FAILURE_KINDS = frozenset(
    {
        "rate_limit",
        "token_expired",
        "window_closed",
        "messenger_window_closed",
        "undeliverable",
        "already_replied",
        "bad_request",
        "server_error",
        "timeout",
        "timeout_after_delivery",
        "connect_error",
    }
)


@dataclass
class RecordedCall:
    method: str
    path: str  # full URL path, version included: "/v21.0/1234/messages"
    endpoint: str  # the path below the version: "/1234/messages"
    body: dict[str, Any]
    headers: dict[str, str]
    outcome: str  # "ok" or a failure kind
    response: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


def _error(message: str, code: int, *, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    error["fbtrace_id"] = "AbCdEfGhIjKlMnOp"
    return {"error": error}


class FakeGraph:
    """Records every call and answers like the Graph API; failures are queued or made sticky."""

    def __init__(self, *, retry_after: float = 30.0, version: str = "v21.0") -> None:
        self.retry_after = retry_after
        self.version = version
        self.calls: list[RecordedCall] = []
        self.delivered: list[RecordedCall] = []
        self._queue: list[str] = []
        self._always: str | None = None
        self._counter = 0
        self._lock = threading.Lock()
        self.transport = httpx.MockTransport(self._handle)
        # (ig user id, media / comment id) -> the IG Media / IG Comment fields Graph would return
        self.mentioned_media: dict[tuple[str, str], dict[str, Any]] = {}
        self.mentioned_comments: dict[tuple[str, str], dict[str, Any]] = {}
        # WhatsApp media uploaded (POST /{phone}/media), by the id Graph answered
        self.uploads: dict[str, dict[str, Any]] = {}
        # Customers' files: WhatsApp media ids, and Meta CDN addresses (Messenger, Instagram)
        self.customer_media: dict[str, tuple[bytes, str]] = {}
        self.cdn: dict[str, bytes] = {}
        self.downloads: list[str] = []

    def add_mentioned_media(
        self,
        ig_user: str,
        media_id: str,
        *,
        caption: str,
        username: str,
        timestamp: str = "2024-06-10T06:13:20+0000",
        media_type: str = "IMAGE",
    ) -> None:
        self.mentioned_media[(ig_user, media_id)] = {
            "id": media_id,
            "caption": caption,
            "username": username,
            "timestamp": timestamp,
            "media_type": media_type,
            "permalink": f"https://www.instagram.com/p/{media_id[-6:]}/",
            "like_count": 3,
            "comments_count": 1,
        }

    def add_mentioned_comment(
        self,
        ig_user: str,
        comment_id: str,
        *,
        media_id: str,
        text: str,
        username: str,
        timestamp: str = "2024-06-10T06:14:00+0000",
    ) -> None:
        self.mentioned_comments[(ig_user, comment_id)] = {
            "id": comment_id,
            "text": text,
            "username": username,
            "timestamp": timestamp,
            "like_count": 0,
            "media": {"id": media_id, "permalink": f"https://www.instagram.com/p/{media_id[-6:]}/"},
        }

    # -- configuration ------------------------------------------------------------------------

    def queue_failures(self, *kinds: str) -> FakeGraph:
        """The next len(kinds) calls fail in this order; later calls succeed."""
        for kind in kinds:
            if kind not in FAILURE_KINDS:
                raise ValueError(f"unknown failure kind {kind!r}; one of {sorted(FAILURE_KINDS)}")
        with self._lock:
            self._queue.extend(kinds)
        return self

    def fail_always(self, kind: str | None) -> FakeGraph:
        """Every call fails with `kind` (after the queue is used up); None goes back to success."""
        if kind is not None and kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}")
        self._always = kind
        return self

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.delivered.clear()
            self._queue.clear()
            self._always = None

    @property
    def pending_failures(self) -> list[str]:
        return list(self._queue)

    # -- the fake API ---------------------------------------------------------------------------

    def _next_outcome(self) -> str:
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            return self._always or "ok"

    def _new_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _whatsapp_upload(self, body: dict[str, Any], number: int) -> tuple[int, dict[str, Any]]:
        """WhatsApp's media upload: multipart with `file` and its `type`; the answer is its id."""
        upload = body.get("file")
        if not isinstance(upload, dict) or not upload.get("data"):
            return 400, _error("(#100) The parameter file is required.", 100)
        if body.get("type") != upload.get("content_type"):
            return 400, _error("(#100) Param type must match the file's MIME type", 100)
        media_id = f"{number:015d}"
        self.uploads[media_id] = upload
        return 200, {"id": media_id}

    def _messenger_upload(self, body: dict[str, Any], number: int) -> tuple[int, dict[str, Any]] | None:
        """A Send API call with `filedata`: the attachment alone (no text), kept; None when fine."""
        message = json.loads(str(body.get("message") or "{}"))
        upload = body.get("filedata")
        if not isinstance(upload, dict) or "attachment" not in message or "text" in message:
            return 400, _error("(#100) An attachment upload needs filedata and an attachment", 100)
        self.uploads[f"m_FAKE{number:08d}"] = upload
        return None

    def _success(self, endpoint: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        number = self._new_id()
        parts = [p for p in endpoint.split("/") if p]
        if len(parts) != 2:
            return 400, _error("Unsupported post request.", 100)
        node, edge = parts
        if edge == "media" and body.get("messaging_product") == "whatsapp":
            return self._whatsapp_upload(body, number)
        if edge == "messages" and body.get("messaging_product") == "whatsapp":
            kind = body.get("type")
            if kind in ("image", "document", "audio", "video"):
                media = body.get(kind) or {}
                if str(media.get("id", "")) not in self.uploads and not media.get("link"):
                    return 400, _error("(#131053) Media upload error: unknown media id", 131053)
            to = str(body.get("to", ""))
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.FAKE{number:08d}"}],
            }
        if edge == "messages":
            recipient = body.get("recipient") or {}
            if isinstance(recipient, str):  # a multipart send: the form fields hold JSON text
                refused = self._messenger_upload(body, number)
                if refused is not None:
                    return refused
                recipient = json.loads(recipient)
            return 200, {
                "recipient_id": str(recipient.get("id", f"psid-{number}")),
                "message_id": f"m_FAKE{number:08d}",
            }
        if edge in ("comments", "replies"):
            if any(key[1] == node for key in (*self.mentioned_media, *self.mentioned_comments)):
                return 400, _error("(#100) Unsupported post request.", 100, subcode=33)
            return 200, {"id": f"{node}_{number:08d}"}
        if edge == "mentions":
            media, message = str(body.get("media_id") or ""), body.get("message")
            if (node, media) not in self.mentioned_media and not any(
                key[0] == node and value["media"]["id"] == media
                for key, value in self.mentioned_comments.items()
            ):
                return 400, _error("(#100) Invalid parameter", 100)
            comment = body.get("comment_id")
            if comment is not None and (node, str(comment)) not in self.mentioned_comments:
                return 400, _error("(#100) Invalid parameter", 100)
            if not isinstance(message, str) or not message:
                return 400, _error("(#100) The parameter message is required", 100)
            return 200, {"id": f"1791{number:011d}"}
        return 400, _error(f"Unknown path components: /{edge}", 2500)

    def _read(self, endpoint: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        node = endpoint.strip("/")
        if node in self.customer_media and not params.get("fields"):
            data, mime = self.customer_media[node]
            return 200, {
                "messaging_product": "whatsapp",
                "url": f"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid={node}",
                "mime_type": mime,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
                "id": node,
            }
        fields = params.get("fields", "")
        match = re.fullmatch(r"(mentioned_media)\.media_id\((\w+)\)(?:\{(.*)\})?", fields) or re.fullmatch(
            r"(mentioned_comment)\.comment_id\((\w+)\)(?:\{(.*)\})?", fields
        )
        if "/" in node or match is None:
            return 400, _error("(#100) Tried accessing nonexisting field", 100)
        edge, wanted_id, wanted = match.groups()
        store = self.mentioned_media if edge == "mentioned_media" else self.mentioned_comments
        found = store.get((node, wanted_id))
        if found is None:
            return 400, _error(
                f"Unsupported get request. Object with ID '{wanted_id}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation.",
                100,
                subcode=33,
            )
        names = (
            _top_level_fields(wanted)
            if wanted
            else ["id", "caption" if edge == "mentioned_media" else "text"]
        )
        picked = {k: v for k, v in found.items() if k in names or k == "id"}
        return 200, {edge: picked, "id": node}

    def _failure(self, kind: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if kind == "rate_limit":
            return (
                429,
                _error("(#4) Application request limit reached", 4, is_transient=True),
                {"Retry-After": str(int(self.retry_after))},
            )
        if kind == "token_expired":
            return (
                401,
                _error(
                    "Error validating access token: Session has expired on Friday, 01-Mar-24 10:00:00 PST.",
                    190,
                    subcode=463,
                ),
                {},
            )
        if kind == "window_closed":
            return (
                400,
                _error(
                    "(#131047) Re-engagement message",
                    131047,
                    error_data={
                        "messaging_product": "whatsapp",
                        "details": "Message failed to send because more than 24 hours have passed "
                        "since the customer last replied to this number.",
                    },
                ),
                {},
            )
        if kind == "messenger_window_closed":
            return (
                400,
                _error("(#10) This message is sent outside of allowed window.", 10, subcode=2018278),
                {},
            )
        if kind == "undeliverable":
            return (
                400,
                _error(
                    "(#131026) Message undeliverable",
                    131026,
                    error_data={"messaging_product": "whatsapp", "details": "Message Undeliverable."},
                ),
                {},
            )
        if kind == "already_replied":
            return 400, _error("(#10900) Activity already replied to", 10900), {}
        if kind == "bad_request":
            return 400, _error("(#100) Invalid parameter", 100), {}
        return (
            500,
            {
                "error": {
                    "message": "An unexpected error has occurred. Please retry your request later.",
                    "type": "OAuthException",
                    "is_transient": True,
                    "code": 2,
                    "fbtrace_id": "AbCdEfGhIjKlMnOp",
                }
            },
            {},
        )

    def add_customer_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        """A file a customer sent on WhatsApp: its id comes in the webhook, its bytes from here."""
        self.customer_media[media_id] = (data, mime_type)

    def _file(self, request: httpx.Request) -> httpx.Response:
        """Downloads: WhatsApp's lookaside address (token required) and Meta's CDN (signed URL)."""
        self.downloads.append(str(request.url))
        if request.url.host == "lookaside.fbsbx.com":
            if not request.headers.get("authorization", "").startswith("Bearer "):
                return httpx.Response(401, json=_error("Invalid OAuth access token.", 190))
            found = self.customer_media.get(request.url.params.get("mid", ""))
            if found is None:
                return httpx.Response(404, content=b"")
            return httpx.Response(200, content=found[0], headers={"content-type": found[1]})
        data = self.cdn.get(str(request.url))
        return (
            httpx.Response(200, content=data)
            if data is not None
            else httpx.Response(403, content=b"URL signature expired")
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "graph.facebook.com" and request.method == "GET":
            return self._file(request)
        try:
            body = form_of(request) if is_multipart(request) else json.loads(request.content or b"{}")
        except json.JSONDecodeError:
            body = {}
        path = request.url.path
        prefix = f"/{self.version}"
        endpoint = path[len(prefix) :] if path.startswith(prefix + "/") else path
        outcome = self._next_outcome()
        call = RecordedCall(
            method=request.method,
            path=path,
            endpoint=endpoint,
            body=body if isinstance(body, dict) else {},
            headers={k.lower(): v for k, v in request.headers.items()},
            outcome=outcome,
        )
        with self._lock:
            self.calls.append(call)

        if outcome == "timeout":
            raise httpx.ReadTimeout("fake graph: no answer", request=request)
        if outcome == "connect_error":
            raise httpx.ConnectError("fake graph: connection refused", request=request)
        if outcome in ("ok", "timeout_after_delivery"):
            if request.method == "GET":
                status, payload = self._read(endpoint, dict(request.url.params))
            else:
                status, payload = self._success(endpoint, call.body)
            call.response = payload
            if status == 200:
                with self._lock:
                    self.delivered.append(call)
            if outcome == "timeout_after_delivery":
                raise httpx.ReadTimeout("fake graph: delivered, answer lost", request=request)
            return httpx.Response(status, json=payload)
        status, payload, headers = self._failure(outcome)
        call.response = payload
        return httpx.Response(status, json=payload, headers=headers)


def _top_level_fields(spec: str) -> list[str]:
    """ "id,text,media{id,permalink}" -> ["id", "text", "media"] (field expansion kept whole)."""
    names, depth, current = [], 0, ""
    for ch in spec:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            names.append(current.strip())
            current = ""
            continue
        if depth == 0 and ch not in "{}":
            current += ch
    if current.strip():
        names.append(current.strip())
    return names
