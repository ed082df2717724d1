"""Threads that drain the pipeline's durable work queue: in `relaydesk serve` and `relaydesk worker`.

Each thread leases a batch, processes it and commits; when the queue is empty it sleeps until
woken (a message was accepted in this process, or a bus nudge from another one) or until the
poll interval passes, so a lost wake-up delays work by at most that interval and loses nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Protocol

log = logging.getLogger(__name__)


class Drainable(Protocol):
    def run_once(self, owner: str, batch: int = ..., threads: int = ...) -> int: ...


def owner_prefix(pid: int) -> str:
    """How every lease taken by a worker thread of process `pid` on this host begins."""
    return f"{socket.gethostname()[:24]}:{pid}:"


class Workers(Protocol):
    """What a server needs of whatever drains its queue: threads here or a worker process."""

    threads: int
    runs_timers: bool  # the housekeeping timers too (the server then leaves them to it)

    def start(self) -> None: ...
    def wait_ready(self, timeout: float = ...) -> bool: ...
    def wake(self) -> None: ...
    def stop(self, timeout: float = ...) -> None: ...
    @property
    def alive(self) -> int: ...


class PipelineWorkers:
    runs_timers = False

    def __init__(self, pipeline: Drainable, threads: int, poll_seconds: float = 1.0, batch: int = 32) -> None:
        self.pipeline = pipeline
        self.threads = threads
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []
        self.owner_prefix = f"{owner_prefix(os.getpid())}{uuid.uuid4().hex[:6]}"

    def wake(self) -> None:
        self._wake.set()

    def wait_ready(self, timeout: float = 0.0) -> bool:
        return True  # threads of this process: ready once started

    def start(self) -> None:
        if self._running:
            return
        self._stop.clear()
        for index in range(self.threads):
            thread = threading.Thread(
                target=self._loop,
                args=(f"{self.owner_prefix}:{index}",),
                name=f"relaydesk-work-{index}",
                daemon=True,
            )
            thread.start()
            self._running.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batches in hand, then stop (leases of anything unfinished simply run out)."""
        self._stop.set()
        self._wake.set()
        for thread in self._running:
            thread.join(timeout)
        self._running.clear()

    @property
    def alive(self) -> int:
        return sum(1 for thread in self._running if thread.is_alive())

    def _loop(self, owner: str) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                handled = self.pipeline.run_once(owner, self.batch, self.threads)
                failures = 0
            except Exception:
                # The database is down or cut mid-batch: nothing committed, the leases run out and
                # the work is taken again once the database answers.
                failures += 1
                log.warning(
                    "pipeline worker %s failed (attempt %d); retrying", owner, failures, exc_info=True
                )
                self._stop.wait(min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            if handled == 0:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
