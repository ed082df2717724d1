"""NATS JetStream bus for the scale-out mode: a durable event log between API processes and workers.

Delivery is at-least-once: a worker acknowledges a message only after its handler committed, so a
worker killed mid-message leaves it to be redelivered, and every handler is idempotent.
The bus runs its own asyncio loop in a thread, so the synchronous services can publish to it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import NotFoundError

from relaydesk.pipeline.bus.base import Handler

log = logging.getLogger(__name__)
T = TypeVar("T")


def durable_name(subject: str, group: str) -> str:
    return f"{group}-{subject.replace('.', '-').replace('*', 'any').replace('>', 'all')}"


class NatsBus:
    def __init__(
        self, url: str, stream: str = "RELAYDESK", group: str = "workers", ack_wait: float = 30.0
    ) -> None:
        self.url = url
        self.stream = stream
        self.group = group
        self.ack_wait = ack_wait
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="relaydesk-nats", daemon=True)
        self._thread.start()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._nc: Any = self._run(nats.connect(url, connect_timeout=5, max_reconnect_attempts=3))
        self._js = self._nc.jetstream()
        self._run(self._ensure_stream())

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _ensure_stream(self) -> None:
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(StreamConfig(name=self.stream, subjects=["relaydesk.>"]))

    def publish(self, subject: str, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        # JetStream de-duplicates by message id within its window: a retried publish is stored once.
        msg_id = payload.get("event_id") or payload.get("message_id")
        headers = {"Nats-Msg-Id": f"{subject}:{msg_id}"} if msg_id is not None else None
        self._run(self._js.publish(subject, data, stream=self.stream, headers=headers))

    def subscribe(self, subject: str, handler: Handler) -> None:
        """A durable pull consumer shared by every worker of the group (work is split, not copied)."""

        async def start() -> None:
            self._tasks.append(asyncio.create_task(self._consume(subject, handler)))

        self._run(start())

    async def _consume(self, subject: str, handler: Handler) -> None:
        durable = durable_name(subject, self.group)
        sub = await self._js.pull_subscribe(
            subject,
            durable=durable,
            stream=self.stream,
            config=ConsumerConfig(ack_wait=self.ack_wait, max_deliver=20),
        )
        while not self._stop.is_set():
            try:
                messages = await sub.fetch(batch=16, timeout=1)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except Exception as exc:  # noqa: BLE001 - a dropped connection must not end the consumer
                if self._stop.is_set():
                    return
                log.warning("bus fetch failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1)
                continue
            for message in messages:
                try:
                    payload = json.loads(message.data)
                    await asyncio.get_running_loop().run_in_executor(None, handler, payload)
                except Exception:
                    log.exception("handler for %s failed; the message will be redelivered", subject)
                    await message.nak(delay=2)
                    continue
                await message.ack()

    def close(self) -> None:
        """Stop consuming and disconnect; unacknowledged messages go back to the stream."""
        if not self._thread.is_alive():
            return

        async def shutdown() -> None:
            self._stop.set()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._nc.close()

        try:
            self._run(shutdown(), timeout=15)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
