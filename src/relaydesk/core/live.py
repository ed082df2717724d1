"""Live push to open pages: Server-Sent Events saying *what* changed, never the data itself.

Every committed domain event that names a conversation (a message accepted, a status change, an
assignment, a reply's delivery) or a person (a notification) becomes one small signal
``{"conversation_id": 12}``; the page then fetches its own, already scoped, HTML regions again.
So a signal can never show a person something their page would not, and it is only sent to
people who may see that conversation (checked in SQL, per batch of signals).

Signals are numbered; a browser that reconnects sends ``Last-Event-ID`` and gets what it
missed from the ring of recent signals (or one "reload" signal when it missed more than the
ring holds). In scale-out the bus relays events between processes, so a page served by
process A hears about a message accepted by process B.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

from relaydesk.core.events import DomainEvent, hub

log = logging.getLogger(__name__)

RING = 2000
HEARTBEAT_SECONDS = 15.0
# The browser waits this long before reconnecting after the stream ends.
RETRY_MS = 3000


@dataclass(frozen=True)
class Signal:
    seq: int
    org_id: int
    kind: str
    conversation_id: int | None = None
    user_id: int | None = None
    actor: int | None = None  # who caused it, when their own page need not hear it


class LiveSignal(DomainEvent):
    """A signal relayed between processes in scale-out (not a domain event: nothing stores it)."""

    origin: str  # the sending process's feed epoch: a process ignores its own echo
    org_id: int
    kind: str
    conversation_id: int | None = None
    user_id: int | None = None
    actor: int | None = None


def signal_fields(event: DomainEvent) -> tuple[int, int | None, int | None] | None:
    """(org, conversation, person) an event is about, or None when no page shows it."""
    org_id = getattr(event, "org_id", None)
    if not isinstance(org_id, int):
        return None
    conversation_id = getattr(event, "conversation_id", None)
    user_id = getattr(event, "user_id", None) if type(event).__name__ == "NotificationCreated" else None
    if conversation_id is None and user_id is None:
        return None
    return org_id, conversation_id, user_id


class LiveFeed:
    """The recent signals of this process, and the open streams waiting for the next one."""

    def __init__(self, ring: int = RING) -> None:
        # Numbers restart with the process: an id from another process or an earlier run
        # cannot be compared, so a reconnect carrying one gets a "reload" signal instead.
        self.epoch = secrets.token_hex(4)
        self._signals: deque[Signal] = deque(maxlen=ring)
        self._seq = 0
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._relays: list[Callable[[LiveSignal], None]] = []

    @property
    def last_seq(self) -> int:
        return self._seq

    def publish(self, event: DomainEvent) -> None:
        """A listener of the event hub: runs after the commit, in whatever thread committed."""
        fields = signal_fields(event)
        if fields is None:
            return
        org_id, conversation_id, user_id = fields
        # "I am typing" is news for colleagues only.
        actor = getattr(event, "user_id", None) if type(event).__name__ == "PresenceChanged" else None
        self._add(org_id, type(event).__name__, conversation_id, user_id, actor)
        for relay in list(self._relays):
            try:
                relay(
                    LiveSignal(
                        origin=self.epoch,
                        org_id=org_id,
                        kind=type(event).__name__,
                        conversation_id=conversation_id,
                        user_id=user_id,
                        actor=actor,
                    )
                )
            except Exception:
                # Other processes' pages refresh on their fallback timer instead; never fail a commit.
                log.warning("could not relay a live signal to the other processes", exc_info=True)

    def relayed(self, signal: LiveSignal) -> None:
        """A signal from another process (scale-out): its pages hear it like a local one."""
        if signal.origin != self.epoch:
            self._add(signal.org_id, signal.kind, signal.conversation_id, signal.user_id, signal.actor)

    def add_relay(self, relay: Callable[[LiveSignal], None]) -> None:
        if relay not in self._relays:
            self._relays.append(relay)

    def _add(
        self,
        org_id: int,
        kind: str,
        conversation_id: int | None,
        user_id: int | None,
        actor: int | None = None,
    ) -> None:
        with self._lock:
            self._seq += 1
            self._signals.append(Signal(self._seq, org_id, kind, conversation_id, user_id, actor))
            waiters = list(self._waiters)
        for loop, ready in waiters:
            try:
                loop.call_soon_threadsafe(ready.set)
            except RuntimeError:
                pass  # that stream's loop has closed; it is removed when its generator ends

    def since(self, seq: int) -> tuple[list[Signal], bool]:
        """Signals after `seq`, and whether some were already dropped from the ring."""
        with self._lock:
            items = [s for s in self._signals if s.seq > seq]
            oldest = self._signals[0].seq if self._signals else self._seq + 1
        return items, seq < oldest - 1 and seq < self._seq

    async def stream(
        self,
        org_id: int,
        user_id: int,
        last_event_id: str | None,
        visible: Callable[[Iterable[int]], set[int]],
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
        disconnected: Callable[[], object] | None = None,
    ) -> AsyncIterator[str]:
        """The SSE text for one page: its signals as they come, heartbeats between them."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        waiter = (loop, ready)
        with self._lock:
            self._waiters.add(waiter)
        since = self.parse_last_event_id(last_event_id)
        cursor = self.last_seq if since is None else since
        try:
            yield f"retry: {RETRY_MS}\n\n"
            if last_event_id and (since is None or since > self.last_seq):
                yield self._frame(self.last_seq, {"kind": "reload"})
            while True:
                ready.clear()
                items, missed = self.since(cursor)
                if missed:
                    yield self._frame(self.last_seq, {"kind": "reload"})
                    cursor = self.last_seq
                    continue
                mine = [s for s in items if s.org_id == org_id and s.actor != user_id]
                if mine:
                    ids = {s.conversation_id for s in mine if s.conversation_id is not None}
                    seen = await asyncio.to_thread(visible, ids) if ids else set()
                    for s in mine:
                        if s.conversation_id in seen or s.user_id == user_id:
                            body: dict[str, object] = {"kind": s.kind, "conversation_id": s.conversation_id}
                            yield self._frame(s.seq, body)
                if items:
                    cursor = items[-1].seq
                if disconnected is not None and await _maybe_await(disconnected()):
                    return
                try:
                    await asyncio.wait_for(ready.wait(), timeout=heartbeat)
                except TimeoutError:
                    yield ": still here\n\n"  # keeps proxies from closing an idle stream
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _frame(self, seq: int, body: dict[str, object]) -> str:
        return f"id: {self.epoch}.{seq}\nevent: change\ndata: {json.dumps(body)}\n\n"

    def parse_last_event_id(self, value: str | None) -> int | None:
        """Our sequence number in the browser's ``Last-Event-ID``; None when absent, garbled or
        from another process or run (then the page reloads its regions once)."""
        epoch, _, seq = (value or "").partition(".")
        if epoch != self.epoch or not seq.isdigit() or len(seq) > 18:
            return None
        return int(seq)


async def _maybe_await(value: object) -> bool:
    if asyncio.iscoroutine(value):
        return bool(await value)
    return bool(value)


# One feed per process: it holds what this process's open pages may hear.
FEED = LiveFeed()


def install() -> LiveFeed:
    """Every committed event of this process reaches the feed (idempotent)."""
    hub.subscribe(DomainEvent, FEED.publish)
    return FEED
