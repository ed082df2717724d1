"""The webhook door: a plain per-account delivery answered before the web framework's stack.

Under a surge most requests are plain deliveries to one account (`plain.plain_delivery`): verify,
parse, append to the intake queue. That work is small, and the framework around it (routing,
dependency resolution, four middlewares each wrapping the answer) cost as much again, measured
with py-spy under `relaydesk bench ingest`. `PlainDoor` sits outermost in a server's stack and
answers those deliveries itself, with the route's answer, status, headers and accept-time metric.

Everything else goes on to the app untouched: another address, a body without a declared length
or over the limit (the app's limit answers it), a delivery `plain_delivery` declines or fails on,
an event the intake queue refused. A request the door has read is handed on with its body.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers

from relaydesk.channels import plain
from relaydesk.container import Container
from relaydesk.core.metrics import ACCEPT_SECONDS
from relaydesk.core.safetext import storable_values
from relaydesk.pipeline.staging import StagingTimeout
from relaydesk.web import unavailable
from relaydesk.web.headers import every_answer, hsts_value
from relaydesk.web.limits import declared_length

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The per-account addresses (channels/endpoints.py) and the status each answers a success with.
_ADDRESS = re.compile(r"/webhooks/(generic|telegram|line)/([0-9]{1,15})")
_SUCCESS = {"generic": 202, "telegram": 200, "line": 200}


class PlainDoor:
    def __init__(self, app: ASGIApp, *, container: Container, production: bool, hsts_max_age: int) -> None:
        self.app = app
        self.container = container
        self.limit = container.settings.max_body_bytes
        fixed = every_answer(cacheable=False, hsts=hsts_value(production, hsts_max_age))
        self.headers = [(b"content-type", b"application/json")]
        self.headers += [(name.lower().encode(), value.encode()) for name, value in fixed]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        address = self._plain_address(scope)
        if address is None:
            await self.app(scope, receive, send)
            return
        network, account_id = address
        started = time.perf_counter()
        try:
            await self._deliver(scope, receive, send, network, account_id)
        finally:
            ACCEPT_SECONDS.labels(network=network).observe(time.perf_counter() - started)

    def _plain_address(self, scope: Scope) -> tuple[str, int] | None:
        """(network, account id) of a request the door may answer; None: the app answers it."""
        if scope["type"] != "http" or scope.get("method") != "POST":
            return None
        if not self.container.pipeline.background:
            return None  # tests and one-shot commands: the full way writes in the caller's thread
        match = _ADDRESS.fullmatch(scope.get("path", ""))
        if match is None:
            return None
        try:
            declared = declared_length(scope.get("headers") or [])
        except ValueError:
            return None
        if declared is None or declared > self.limit:
            return None
        return match.group(1), int(match.group(2))

    async def _deliver(
        self, scope: Scope, receive: Receive, send: Send, network: str, account_id: int
    ) -> None:
        body, disconnected = await _read(receive)
        if disconnected:
            return  # nobody is left to answer, and a part of a delivery is no delivery
        if len(body) > self.limit:  # more than it declared: the app's limit answers it
            await self.app(scope, _replay(body, receive), send)
            return
        try:
            found = plain.plain_delivery(self.container, account_id, network, body, Headers(scope=scope))
        except Exception:  # noqa: BLE001 - the full way answers whatever this was (a 503, a 4xx)
            found = None
        if found is None:
            await self.app(scope, _replay(body, receive), send)
            return
        org_id, events = found
        try:
            outcome = await plain.stage_plain(self.container, org_id, account_id, events)
        except StagingTimeout as exc:
            # Waiting again the full way would only double the wait of a stuck database.
            log.error("intake queue: %s", exc)
            await self._send(send, 503, {"detail": unavailable.INTAKE}, retry_after=True)
            return
        except Exception:  # noqa: BLE001 - the full way keeps each event's failure to itself
            log.warning("a plain %s delivery for account %s takes the full way", network, account_id)
            await self.app(scope, _replay(body, receive), send)
            return
        await self._send(send, _SUCCESS[network], outcome)

    async def _send(self, send: Send, status: int, content: Any, *, retry_after: bool = False) -> None:
        # As JSONResponse renders it; ids quoted from the payload may hold lone surrogates.
        body = json.dumps(
            storable_values(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
        headers = [*self.headers, (b"content-length", str(len(body)).encode())]
        if retry_after:
            headers.append((b"retry-after", unavailable.RETRY_AFTER.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _read(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether the client went away before sending all of it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app: the body already read, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
