"""Accepting is only appending: a webhook's events go to the intake queue, group-committed.

The webhook's thread hands its events to `Stager.stage` and waits for the commit that holds them,
then answers. In a server one writer thread commits whatever has arrived meanwhile in a single
transaction: under a surge one commit carries many deliveries, and an idle server commits each
delivery at once (there is no batching window to wait out). Without background work (tests,
one-shot commands) the caller's own thread writes its transaction.

After each commit `on_commit` wakes whoever turns staged events into messages
(`Pipeline.materialise`): the server's worker threads, or scale-out workers through the bus.
"""

from __future__ import annotations

import asyncio
import logging
import queue as queues
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.channels.base import InboundEvent, event_to_json
from relaydesk.core.timeutil import utcnow
from relaydesk.db import reading, transaction
from relaydesk.pipeline import staging_repository as queue

log = logging.getLogger(__name__)

MAX_ROWS = 512  # events in one group commit
# Deliveries that met in one commit: requests are overlapping at the door, a surge is on.
CROWDED = 4
SURGE_MEMORY_SECONDS = 0.5  # a surge is over once no commit was crowded for this long
WAIT_SECONDS = 30.0  # longer than any network waits for an answer: past it the request fails (503)


@dataclass(frozen=True)
class ToStage:
    org_id: int
    account_id: int
    event: InboundEvent  # already made storable (`channels.base.storable_event`)


@dataclass(frozen=True)
class Staged:
    event_id: int  # the row in the intake queue
    account_id: int
    external_id: str
    duplicate: bool  # staged before: a redelivery
    message_id: int | None  # set once the event is a message


@dataclass(frozen=True)
class Accepted:
    """What the webhook answers for one event: stored in the intake queue (and later a message)."""

    event_id: int
    external_id: str
    duplicate: bool
    message_id: int | None = None
    conversation_id: int | None = None


Group = list[ToStage]
# A request waiting for its commit: in a thread (`stage`) or on the server's event loop (`stage_async`).
Answer = Future[list[Staged]] | asyncio.Future[list[Staged]]
Outcome = list[Staged] | Exception


class StagingTimeout(Exception):
    """The group commit did not answer in time (the database is stuck); nothing is known stored."""


class Stager:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        on_commit: Callable[[], None],
        *,
        background: bool,
        max_rows: int = MAX_ROWS,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.on_commit = on_commit
        self.background = background
        self.max_rows = max_rows
        self.wait_seconds = wait_seconds
        self._queue: queues.SimpleQueue[tuple[Group, Answer]] = queues.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._crowded_at = -SURGE_MEMORY_SECONDS
        # Waking the workers can be slow (a JetStream publish in scale-out): a thread of its own
        # rings once for however many commits happened meanwhile, never holding up the next one.
        self._ring = threading.Event()

    def surging(self) -> bool:
        """Whether deliveries are arriving faster than one commit at a time (workers yield then)."""
        return time.monotonic() - self._crowded_at < SURGE_MEMORY_SECONDS

    def stage(self, group: Group) -> list[Staged]:
        """Store the events durably (once each) and return what became of each, in order."""
        if not group:
            return []
        if not self.background:
            staged = write(self.sessions, [group])[0]
            self._committed()
            return staged
        future: Future[list[Staged]] = Future()
        self._submit(group, future)
        try:
            return future.result(timeout=self.wait_seconds)
        except TimeoutError as exc:
            raise self._timed_out() from exc

    async def stage_async(self, group: Group) -> list[Staged]:
        """`stage` for a server's event loop: it waits for the commit without holding a thread."""
        if not self.background:
            raise RuntimeError("stage_async needs the background writer (a server)")
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[list[Staged]] = loop.create_future()
        self._submit(group, answer)
        timer = loop.call_later(self.wait_seconds, self._expire, answer)
        try:
            return await answer
        finally:
            timer.cancel()

    def _expire(self, answer: asyncio.Future[list[Staged]]) -> None:
        if not answer.done():
            answer.set_exception(self._timed_out())

    def _submit(self, group: Group, answer: Answer) -> None:
        """Hand the group to the writer thread; `answer` is settled once its commit is done."""
        self._start()
        self._queue.put((group, answer))

    def _timed_out(self) -> StagingTimeout:
        return StagingTimeout(f"the intake queue did not commit within {self.wait_seconds:.0f} s")

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="relaydesk-intake", daemon=True)
                self._thread.start()
                threading.Thread(target=self._doorbell, name="relaydesk-doorbell", daemon=True).start()

    def _doorbell(self) -> None:
        while True:
            self._ring.wait()
            self._ring.clear()
            self._committed()

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            rows = len(batch[0][0])
            # Whatever arrived while the last commit ran goes into this one.
            while rows < self.max_rows:
                try:
                    batch.append(self._queue.get_nowait())
                except queues.Empty:
                    break
                rows += len(batch[-1][0])
            if len(batch) >= CROWDED:
                self._crowded_at = time.monotonic()
            self._commit(batch)

    def _commit(self, batch: list[tuple[Group, Answer]]) -> None:
        try:
            results = write(self.sessions, [group for group, _ in batch])
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request, which answers it
            if len(batch) == 1:
                _answer([(batch[0][1], exc)])
                return
            # One delivery the database refuses must not fail the others of its commit.
            for one in batch:
                self._commit([one])
            return
        _answer([(answer, staged) for (_, answer), staged in zip(batch, results, strict=True)])
        self._ring.set()

    def _committed(self) -> None:
        try:
            self.on_commit()
        except Exception:
            # The events are stored; a worker polling will find them.
            log.warning("could not wake the workers after staging; they will poll", exc_info=True)


def _answer(answers: list[tuple[Answer, Outcome]]) -> None:
    """Settle the waiting requests; those on an event loop with one wake-up of that loop per
    commit. A wake-up each (`asyncio.wrap_future`) was a pipe write and a switch of the
    interpreter lock per request: it halved the webhooks a server accepted under a surge
    (`relaydesk bench ingest`, 1,500 -> 3,200 accepts/s without it)."""
    on_loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[list[Staged]], Outcome]]] = {}
    for answer, outcome in answers:
        if isinstance(answer, asyncio.Future):
            on_loops.setdefault(answer.get_loop(), []).append((answer, outcome))
        elif answer.set_running_or_notify_cancel():
            if isinstance(outcome, Exception):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)
    for loop, settled in on_loops.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:
            pass  # the server is stopping: nobody waits for these answers any more


def _settle(settled: list[tuple[asyncio.Future[list[Staged]], Outcome]]) -> None:
    for answer, outcome in settled:
        if answer.done():  # timed out, or the client went away
            continue
        if isinstance(outcome, Exception):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)


def write(sessions: sessionmaker[Session], groups: list[Group]) -> list[list[Staged]]:
    """One transaction appending every group's events; a redelivered event maps onto its row."""
    now = utcnow()
    rows = [
        {
            "org_id": item.org_id,
            "account_id": item.account_id,
            "external_id": item.event.external_id,
            "event": event_to_json(item.event),
            "state": queue.PENDING,
            "received_at": now,
        }
        for group in groups
        for item in group
    ]
    with transaction(sessions, urgent=True) as session:
        inserted = {(ref.account_id, ref.external_id): ref for ref in queue.stage(session, rows)}
        keys = {(item.account_id, item.event.external_id) for group in groups for item in group}
        missing = keys - inserted.keys()
        earlier = queue.staged_refs(session, missing) if missing else {}
    out: list[list[Staged]] = []
    seen: set[tuple[int, str]] = set()
    for group in groups:
        staged: list[Staged] = []
        for item in group:
            key = (item.account_id, item.event.external_id)
            new = inserted.get(key)
            ref = new if new is not None else earlier.get(key)
            if ref is None:  # pragma: no cover - the conflicting row must exist once ours was refused
                raise LookupError(f"event {key[1]} of account {key[0]} was neither staged nor found")
            staged.append(
                Staged(
                    ref.id,
                    item.account_id,
                    item.event.external_id,
                    new is None or key in seen,
                    ref.message_id,
                )
            )
            seen.add(key)
        out.append(staged)
    return out


def with_messages(sessions: sessionmaker[Session], staged: list[Staged]) -> list[Accepted]:
    """The staged events with the message and conversation each became (None: not yet)."""
    with reading(sessions) as session:
        refs = queue.staged_refs(session, {(s.account_id, s.external_id) for s in staged})
        message_ids = [r.message_id for r in refs.values() if r.message_id is not None]
        conversations = queue.conversations_of(session, message_ids)
    out = []
    for s in staged:
        ref = refs.get((s.account_id, s.external_id))
        message_id = ref.message_id if ref is not None else None
        conversation_id = conversations.get(message_id) if message_id is not None else None
        out.append(Accepted(s.event_id, s.external_id, s.duplicate, message_id, conversation_id))
    return out
