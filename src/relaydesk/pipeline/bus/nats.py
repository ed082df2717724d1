"""NATS JetStream bus for the scale-out mode: a durable event log between API processes and workers.

Delivery is at-least-once: a worker acknowledges a message only after its handler committed, so a
worker killed mid-message leaves it to be redelivered, and every handler is idempotent.
The bus runs its own asyncio loop in a thread, so the synchronous services can publish to it.

A NATS restart or network cut is survived without limit: the client reconnects forever, the
consumers keep fetching (re-creating their stream and durable consumer if NATS came back empty),
and a publish waits for the reconnection up to `publish_timeout`, then raises BusUnavailable so the
caller answers 503 instead of claiming success.

Subjects start with the installation's prefix (its stream name in lower case: stream RELAYDESK
carries `relaydesk.>`), so installations with different stream names share one NATS server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import re
import threading
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import nats
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import BadRequestError, NoStreamResponseError, NotFoundError

from relaydesk.core.events import DomainEvent
from relaydesk.pipeline.bus.base import (
    SUBJECT_ROOT,
    BusConfigError,
    BusUnavailable,
    E,
    broadcast_subject_of,
    subject_of,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# A JetStream stream name that is also a valid subject token (no dots, wildcards or spaces).
STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# One publish attempt waits this long for JetStream's ack before it is sent again (same message
# id, so JetStream stores it once).
ACK_WAIT_S = 2.0
# Errors a publish or fetch may meet while NATS is away or coming back; all are worth a retry.
TRANSIENT = (nats.errors.Error, TimeoutError, OSError)


def durable_name(subject: str, group: str) -> str:
    return f"{group}-{subject.replace('.', '-').replace('*', 'any').replace('>', 'all')}"


def subject_prefix(stream: str) -> str:
    """The first subject token of an installation's messages: its stream name in lower case."""
    return stream.lower()


def redact_url(url: str) -> str:
    """A NATS URL fit for logs and errors: user and password (or token) removed."""
    return re.sub(r"//[^@/]*@", "//", url)


class NatsBus:
    def __init__(
        self,
        url: str,
        stream: str = "RELAYDESK",
        group: str = "workers",
        ack_wait: float = 30.0,
        *,
        publish_timeout: float = 10.0,
        connect_timeout: float = 30.0,
        reconnect_wait: int = 1,
    ) -> None:
        if not STREAM_NAME.match(stream):
            raise BusConfigError(
                f"RELAYDESK_BUS_STREAM must be 1-64 letters, digits, '-' or '_', got {stream!r}"
            )
        self.url = url
        self.stream = stream
        self.prefix = subject_prefix(stream)
        self.group = group
        self.ack_wait = ack_wait
        self.publish_timeout = publish_timeout
        self.connect_timeout = connect_timeout
        self.reconnect_wait = reconnect_wait
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="relaydesk-nats", daemon=True)
        self._thread.start()
        self._stop = asyncio.Event()
        self._closing = False  # a close we asked for: not worth a warning
        self._tasks: list[asyncio.Task[None]] = []
        self._nc: Any = None
        self._away = False  # between a disconnect and the reconnect: connection errors are expected
        self._reconnects = 0  # consumers re-check their durable consumer when this moves
        self._last_error = ""
        try:
            self._nc = self._run(self._connect(), timeout=connect_timeout + 5)
            self._js = self._nc.jetstream()
            self._run(self._ensure_stream())
        except BaseException:
            self._closing = True
            if self._nc is not None:
                with contextlib.suppress(Exception):
                    self._run(self._nc.close(), timeout=5)
            self._stop_loop()
            raise

    # -- connection -------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        if not self._thread.is_alive():
            coro.close()
            raise BusUnavailable("the bus is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    async def _connect(self) -> Any:
        options: dict[str, Any] = {
            "connect_timeout": 5,
            # Never give up: a NATS restart or a long network cut must not need a RelayDesk restart.
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": self.reconnect_wait,
            # Notice a silently dead connection (no FIN, say a cut cable) within ~30 s.
            "ping_interval": 10,
            "max_outstanding_pings": 3,
            # While reconnecting, publishes are buffered (up to nats-py's pending_size, 2 MiB) and
            # flushed on reconnect; `publish` below bounds how long a caller waits for that.
            "disconnected_cb": self._on_disconnected,
            "reconnected_cb": self._on_reconnected,
            "error_cb": self._on_error,
            "closed_cb": self._on_closed,
        }
        try:
            return await asyncio.wait_for(nats.connect(self.url, **options), self.connect_timeout)
        except TimeoutError:
            # The first connection is bounded, so a wrong URL ends the start with the reason.
            raise BusUnavailable(
                f"NATS at {redact_url(self.url)} did not answer within {self.connect_timeout:g} s"
                f"{f' (last error: {self._last_error})' if self._last_error else ''}"
            ) from None

    async def _on_disconnected(self) -> None:
        if self._closing or self._away:
            return
        self._away = True
        log.warning(
            "bus: lost NATS at %s; reconnecting every %d s without limit",
            redact_url(self.url),
            self.reconnect_wait,
        )

    async def _on_reconnected(self) -> None:
        self._away = False
        self._reconnects += 1
        log.warning("bus: reconnected to NATS at %s", redact_url(self.url))

    async def _on_error(self, exc: Exception) -> None:
        self._last_error = type(exc).__name__
        if self._away or self._closing or self._nc is None:
            # Refused connections repeat every `reconnect_wait` during an outage: not worth a line each.
            log.debug("bus: NATS connection attempt failed: %s", type(exc).__name__)
        else:
            log.warning("bus: NATS error: %s: %s", type(exc).__name__, exc)

    async def _on_closed(self) -> None:
        if not self._closing:
            log.error("bus: the NATS connection was closed and will not reconnect")

    def connected(self) -> bool:
        return self._nc is not None and bool(self._nc.is_connected)

    # -- stream ------------------------------------------------------------------------------

    def _wire(self, subject: str) -> str:
        """The subject on NATS: the installation's prefix instead of the shared root."""
        root, dot, rest = subject.partition(".")
        if root != SUBJECT_ROOT or not dot:
            raise ValueError(f"bus subjects start with {SUBJECT_ROOT}., got {subject!r}")
        return f"{self.prefix}.{rest}"

    async def _ensure_stream(self) -> None:
        wanted = f"{self.prefix}.>"
        try:
            info = await self._js.stream_info(self.stream)
        except NotFoundError:
            try:
                await self._js.add_stream(StreamConfig(name=self.stream, subjects=[wanted]))
            except BadRequestError as exc:
                raise BusConfigError(
                    f"the JetStream stream {self.stream} (subjects {wanted}) cannot be created on this "
                    f"NATS server: {exc.description}. Each installation sharing a NATS server needs "
                    "its own RELAYDESK_BUS_STREAM (names differing only in case clash)"
                ) from None
            return
        subjects = list(info.config.subjects or [])
        if wanted not in subjects:
            raise BusConfigError(
                f"the JetStream stream {self.stream} on this NATS server carries {', '.join(subjects)}, "
                f"not {wanted}: it belongs to another installation or an older RelayDesk; "
                "set another RELAYDESK_BUS_STREAM or delete that stream"
            )

    # -- publish -----------------------------------------------------------------------------

    def publish(self, event: DomainEvent) -> None:
        subject = subject_of(type(event))
        data = event.model_dump_json().encode()
        # JetStream de-duplicates by message id within its window: a retried publish is stored once.
        headers = {"Nats-Msg-Id": uuid.uuid4().hex}
        try:
            self._run(self._publish(self._wire(subject), data, headers), timeout=self.publish_timeout + 5)
        except concurrent.futures.TimeoutError:  # pragma: no cover - _publish bounds itself first
            raise BusUnavailable(
                f"NATS did not store the message within {self.publish_timeout:g} s"
            ) from None

    async def _publish(self, subject: str, data: bytes, headers: dict[str, str] | None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.publish_timeout
        pause = 0.1
        while True:
            remaining = deadline - loop.time()
            try:
                await self._js.publish(
                    subject,
                    data,
                    timeout=max(0.1, min(ACK_WAIT_S, remaining)),
                    stream=self.stream,
                    headers=headers,
                )
                return
            except NoStreamResponseError:
                # Nothing stores the subject: JetStream is still starting after a restart, or NATS
                # came back with an empty store and the stream must be created again.
                problem = "no stream answered"
                with contextlib.suppress(*TRANSIENT, BusConfigError):
                    await self._ensure_stream()
            except TRANSIENT as exc:
                problem = type(exc).__name__
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise BusUnavailable(
                    f"NATS did not store the message within {self.publish_timeout:g} s ({problem})"
                )
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, 1.0)

    # -- broadcast (plain NATS: every listening process gets a copy, nothing is stored) ----------

    def broadcast(self, event: DomainEvent) -> None:
        subject = self._broadcast_wire(type(event))
        data = event.model_dump_json().encode()
        try:
            # nats-py buffers while reconnecting; a broadcast is advisory, so the wait is short.
            self._run(self._nc.publish(subject, data), timeout=2)
        except (concurrent.futures.TimeoutError, *TRANSIENT) as exc:
            raise BusUnavailable(f"NATS did not take the broadcast ({type(exc).__name__})") from None

    def _broadcast_wire(self, event_type: type[DomainEvent]) -> str:
        # Beside the stream's subjects (prefix.>), never under them: JetStream would store each one.
        rest = broadcast_subject_of(event_type).partition(".")[2]
        return f"{self.prefix}-live.{rest}"

    def listen(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        subject = self._broadcast_wire(event_type)

        async def deliver(message: Any) -> None:
            try:
                handler(event_type.model_validate_json(message.data))
            except Exception:
                log.exception("broadcast listener for %s failed", event_type.__name__)

        async def start() -> None:
            # A core subscription: the client subscribes again by itself after a reconnect.
            await self._nc.subscribe(subject, cb=deliver)

        self._run(start())

    # -- consume -----------------------------------------------------------------------------

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """A durable pull consumer shared by every worker of the group (work is split, not copied)."""
        subject = subject_of(event_type)

        def typed(data: bytes) -> None:
            handler(event_type.model_validate_json(data))

        async def start() -> None:
            self._tasks.append(asyncio.create_task(self._consume(subject, typed)))

        self._run(start())

    async def _pull_subscription(self, subject: str, durable: str, current: Any) -> Any:
        """The pull subscription to fetch from: the current one if its consumer still exists."""
        if current is not None:
            try:
                await self._js.consumer_info(self.stream, durable)
                return current  # its inbox was subscribed again by the client on reconnect
            except NotFoundError:
                log.warning("bus: consumer %s is gone (NATS lost its store?); creating it again", durable)
                with contextlib.suppress(*TRANSIENT):
                    await current.unsubscribe()
        await self._ensure_stream()
        return await self._js.pull_subscribe(
            self._wire(subject),
            durable=durable,
            stream=self.stream,
            config=ConsumerConfig(ack_wait=self.ack_wait, max_deliver=20),
        )

    async def _consume(self, subject: str, handler: Callable[[bytes], None]) -> None:
        durable = durable_name(subject, self.group)
        sub: Any = None
        check = True  # (re)create the subscription or make sure its consumer still exists
        seen_reconnects = self._reconnects
        pause = 0.5
        while not self._stop.is_set():
            if self._reconnects != seen_reconnects:
                seen_reconnects = self._reconnects
                check = True
            if check:
                try:
                    sub = await self._pull_subscription(subject, durable, sub)
                except (*TRANSIENT, BusConfigError) as exc:
                    if self._stop.is_set():
                        return
                    log.warning("bus: cannot consume %s yet (%s); retrying", subject, type(exc).__name__)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 10.0)
                    continue
                check, pause = False, 0.5
            try:
                messages = await sub.fetch(batch=16, timeout=1)
            except TimeoutError:
                continue
            except Exception as exc:  # noqa: BLE001 - a dropped connection must not end the consumer
                if self._stop.is_set():
                    return
                log.warning(
                    "bus: fetch from %s failed (%s); checking the consumer", subject, type(exc).__name__
                )
                check = True
                await asyncio.sleep(1)
                continue
            for message in messages:
                await self._handle(subject, handler, message)

    async def _handle(self, subject: str, handler: Callable[[bytes], None], message: Any) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, handler, message.data)
        except Exception:
            log.exception("handler for %s failed; the message will be redelivered", subject)
            with contextlib.suppress(*TRANSIENT):
                await message.nak(delay=2)
            return
        try:
            await message.ack()
        except TRANSIENT as exc:
            # Redelivered after ack_wait; the handlers are idempotent, so it is processed once in effect.
            log.warning("bus: ack for %s lost (%s); it will be redelivered", subject, type(exc).__name__)

    # -- shutdown ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop consuming and disconnect; unacknowledged messages go back to the stream."""
        if not self._thread.is_alive():
            return
        self._closing = True

        async def shutdown() -> None:
            self._stop.set()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            # Closing while NATS is away may fail on the dead socket; there is nothing left to flush.
            with contextlib.suppress(*TRANSIENT):
                await self._nc.close()

        try:
            self._run(shutdown(), timeout=15)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        async def cancel_the_rest() -> None:
            # The client's own tasks (reconnect loop, subscription readers) end here rather than
            # being torn down by the garbage collector on a closed loop.
            rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cancel_the_rest(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()
