"""An in-memory X API v2 behind httpx.MockTransport.

Usage::

    api = FakeXApi()
    alice = api.add_user("Alice", "alice")
    api.add_post(alice, "hi @brand", mentions=[api.me])
    sender = XSender(transport=api.transport, base_url=api.base_url)
    api.fail_next("rate_limit", retry_after=30)   # or expired_token / server_error / timeout

Serves POST /2/tweets, POST /2/dm_conversations/with/:id/messages, GET /2/users/:id/mentions
(pagination_token) and GET /2/tweets/search/recent (next_token), newest first, with ``since_id``.
A page is ``{"data": [...], "includes": {"users": [...]}, "meta": {"result_count", "newest_id",
"oldest_id", "next_token"?}}``, or ``{"meta": {"result_count": 0}}`` when nothing is new.
Recent search understands the operators RelayDesk sends: ``"exact phrase"``, words, ``@handle``,
``OR`` inside parentheses, ``-`` to exclude, ``lang:xx`` and ``is:retweet``; clauses are ANDed.
Errors follow X's problem JSON ``{"title", "detail", "type", "status"}``. Every request is in
``.calls``.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    json: Any
    headers: dict[str, str]


@dataclass
class _Failure:
    kind: str
    retry_after: int
    after: int


@dataclass
class FakeXApi:
    me: str = "1000"
    base_url: str = "https://api.x.test"
    page_size: int | None = None  # smaller pages than max_results, to exercise pagination
    # Recent search covers the last 7 days: a since_id below this id is refused (400).
    search_since_floor: str | None = None
    now: float = 1_700_000_000.0  # the clock behind x-rate-limit-reset
    calls: list[Call] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    dms: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_800_000_000_000_000_000))

    def __post_init__(self) -> None:
        self.users.setdefault(self.me, {"id": self.me, "name": "Brand", "username": "brand"})

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def client(self, token: str = "user-token") -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self.transport, base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}
        )

    # -- state -------------------------------------------------------------------------------
    def add_user(self, name: str, username: str, followers: int = 0) -> str:
        uid = str(next(self._ids))
        self.users[uid] = {
            "id": uid,
            "name": name,
            "username": username,
            "public_metrics": {"followers_count": followers},
        }
        return uid

    def add_post(
        self,
        author_id: str,
        text: str,
        mentions: list[str] | None = None,
        in_reply_to: str | None = None,
        lang: str | None = None,
    ) -> str:
        pid = str(next(self._ids))
        post: dict[str, Any] = {
            "id": pid,
            "text": text,
            "author_id": author_id,
            "created_at": "2024-05-01T10:00:00.000Z",
            "conversation_id": pid,
            "edit_history_tweet_ids": [pid],
            "_mentions": list(mentions or []),
        }
        if lang:
            post["lang"] = lang
        if in_reply_to:
            parent = next((p for p in self.posts if p["id"] == in_reply_to), None)
            post["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
            if parent:
                post["conversation_id"] = parent["conversation_id"]
                post["in_reply_to_user_id"] = parent["author_id"]
        self.posts.append(post)
        return pid

    def fail_next(self, kind: str, times: int = 1, *, retry_after: int = 60, after: int = 0) -> None:
        """Make upcoming requests fail: rate_limit, expired_token, server_error, timeout.

        `after` lets that many requests through first (e.g. fail the second page of a poll).
        """
        for i in range(times):
            self._failures.append(_Failure(kind, retry_after, after if i == 0 else 0))

    # -- transport ---------------------------------------------------------------------------
    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.calls.append(
            Call(request.method, request.url.path, dict(request.url.params), body, dict(request.headers))
        )
        failure = self._take_failure()
        if failure is not None:
            return self._failure_response(failure, request)
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _problem(401, "Unauthorized", "Unauthorized")
        path = request.url.path
        if request.method == "POST" and path == "/2/tweets":
            return self._create_post(request, body or {})
        match = re.fullmatch(r"/2/dm_conversations/with/(\w+)/messages", path)
        if request.method == "POST" and match:
            return self._create_dm(match.group(1), body or {})
        match = re.fullmatch(r"/2/users/(\w+)/mentions", path)
        if request.method == "GET" and match:
            uid = match.group(1)
            found = [p for p in self.posts if uid in p["_mentions"]]
            return self._page(found, request.url.params, "pagination_token")
        if request.method == "GET" and path == "/2/tweets/search/recent":
            query = request.url.params.get("query", "")
            if not query.strip():
                return _problem(400, "Invalid Request", "The `query` query parameter can not be empty")
            since = request.url.params.get("since_id")
            if since and self.search_since_floor and int(since) < int(self.search_since_floor):
                return httpx.Response(
                    400,
                    json={
                        "errors": [
                            {
                                "parameters": {"since_id": [since]},
                                "message": f"Invalid 'since_id':'{since}'. 'since_id' must be a tweet id "
                                "created after the start of the search window.",
                            }
                        ],
                        "title": "Invalid Request",
                        "detail": "One or more parameters to your request was invalid.",
                        "type": "https://api.twitter.com/2/problems/invalid-request",
                    },
                )
            found = [p for p in self.posts if search_matches(query, p, self.users)]
            return self._page(found, request.url.params, "next_token")
        return _problem(404, "Not Found Error", f"no route {request.method} {path}")

    def _take_failure(self) -> _Failure | None:
        if not self._failures:
            return None
        head = self._failures[0]
        if head.after > 0:
            head.after -= 1
            return None
        return self._failures.pop(0)

    def _failure_response(self, failure: _Failure, request: httpx.Request) -> httpx.Response:
        if failure.kind == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if failure.kind == "rate_limit":
            return _problem(
                429,
                "Too Many Requests",
                "Too Many Requests",
                headers={
                    "x-rate-limit-limit": "300",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(self.now) + failure.retry_after),
                },
            )
        if failure.kind == "expired_token":
            return _problem(401, "Unauthorized", "Unauthorized")
        if failure.kind == "server_error":
            return _problem(503, "Service Unavailable", "Service Unavailable")
        raise ValueError(f"unknown failure kind {failure.kind!r}")

    def _create_post(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return _problem(400, "Invalid Request", "One or more parameters to your request was invalid.")
        if any(p["author_id"] == self.me and p["text"] == text for p in self.posts):
            return _problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        pid = self.add_post(self.me, text, in_reply_to=reply_to)
        return httpx.Response(201, json={"data": {"id": pid, "text": text, "edit_history_tweet_ids": [pid]}})

    def _create_dm(self, participant: str, body: dict[str, Any]) -> httpx.Response:
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return _problem(400, "Invalid Request", "One or more parameters to your request was invalid.")
        event_id = str(next(self._ids))
        lo, hi = sorted((self.me, participant), key=lambda v: (len(v), v))
        conversation = f"{lo}-{hi}"
        self.dms.append({"id": event_id, "to": participant, "text": text})
        return httpx.Response(
            201, json={"data": {"dm_conversation_id": conversation, "dm_event_id": event_id}}
        )

    def _page(
        self, found: list[dict[str, Any]], params: httpx.QueryParams, token_param: str
    ) -> httpx.Response:
        since = params.get("since_id")
        newest_first = sorted(found, key=lambda p: int(p["id"]), reverse=True)
        if since:
            newest_first = [p for p in newest_first if int(p["id"]) > int(since)]
        size = self.page_size or int(params.get("max_results", "10"))
        start = int(params.get(token_param, "p0")[1:])
        page = newest_first[start : start + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            return httpx.Response(200, json={"meta": meta})
        meta["newest_id"] = page[0]["id"]
        meta["oldest_id"] = page[-1]["id"]
        if start + size < len(newest_first):
            meta["next_token"] = f"p{start + size}"
        data = [{k: v for k, v in p.items() if not k.startswith("_")} for p in page]
        authors = {p["author_id"] for p in page}
        users = [self.users[a] for a in sorted(authors) if a in self.users]
        return httpx.Response(200, json={"data": data, "includes": {"users": users}, "meta": meta})


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        json={"title": title, "detail": detail, "type": "about:blank", "status": status},
        headers=headers,
    )


_TOKEN_RE = re.compile(r'-?"[^"]*"|-?\(|\)|[^\s()]+')


def _clauses(query: str) -> list[tuple[bool, list[str]]]:
    """Top-level clauses as (negated, OR-ed terms); a parenthesised group is one clause."""
    clauses: list[tuple[bool, list[str]]] = []
    group: list[str] | None = None
    negated = False
    for token in _TOKEN_RE.findall(query):
        if token in ("(", "-("):
            group, negated = [], token == "-("
        elif token == ")":
            clauses.append((negated, [t for t in group or [] if t != "OR"]))
            group = None
        elif group is not None:
            group.append(token)
        elif token.startswith("-"):
            clauses.append((True, [token[1:]]))
        else:
            clauses.append((False, [token]))
    return clauses


def _term_matches(term: str, post: dict[str, Any], users: dict[str, dict[str, Any]]) -> bool:
    text = post["text"].lower()
    if term.startswith('"') and term.endswith('"'):
        return re.search(rf"(?<!\w){re.escape(term[1:-1].lower())}(?!\w)", text) is not None
    if term.startswith("lang:"):
        return post.get("lang") == term[5:]
    if term == "is:retweet":
        return False  # the fake has no retweets
    if term.startswith("@"):
        handle = term[1:].lower()
        named = {str(users.get(m, {}).get("username", "")).lower() for m in post["_mentions"]}
        return handle in named or re.search(rf"@{re.escape(handle)}\b", text) is not None
    return re.search(rf"\b{re.escape(term.lower())}\b", text) is not None


def search_matches(query: str, post: dict[str, Any], users: dict[str, dict[str, Any]]) -> bool:
    """X recent-search semantics for the operators RelayDesk uses (see the module docstring)."""
    return all(
        any(_term_matches(term, post, users) for term in terms) != negated
        for negated, terms in _clauses(query)
    )
