"""The embedded server's worker process: the work queue drained beside the web server, not in it.

`relaydesk serve` on the embedded default used to drain the queue in threads of its own process.
They shared one interpreter lock with the web server, so under load a webhook's answer waited for
the workers' Python (webhook answer p99 645 ms and e2e p99 1.2-1.5 s at half the processing
capacity, `relaydesk bench e2e`). Now one child process (`worker_child.py`) drains it, with the
server's settings, on the same database: SQLite's writer turn is shared through
`db.FileWriterLock`, where the webhooks' group commit goes first.

The two talk over a private socket pair, nothing on the network:
- server -> worker: the settings (one JSON line), then one byte per event: ``w`` work was
  accepted, ``s`` the same while webhooks crowd the door (the worker then yields most of the
  time, as the server's own threads did: `Pipeline.run_once`), ``q`` finish the batches in hand
  and stop;
- worker -> server: JSON lines: ``{"ready": threads}``, ``{"signal": {...}}`` (a live signal for
  the pages open on this server, `core.live`) and ``{"metrics": text}`` (the worker's Prometheus
  numbers, added to this server's `/metrics`).

The queue is durable, so the worker's death loses nothing: its leases run out and the restarted
worker (this class restarts it, with a growing pause) takes the work again.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from relaydesk.settings import Settings

log = logging.getLogger(__name__)

WAKE = b"w"
SURGE = b"s"  # a wake-up while webhooks crowd the door: the worker yields (Pipeline.run_once)
QUIT = b"q"
RESTART_PAUSE_S = (0.5, 30.0)  # the first and the longest pause before a dead worker is restarted
READY_WAIT_S = 120.0  # loading the triage model takes a while on a cold machine


class WorkerProcess:
    """Same face as `PipelineWorkers` (start, wake, stop, alive), the work done in a child process.

    The child also runs the timers (snooze wake-up, SLA warnings, queued assignments), so the web
    server's process does no background writing of its own but the webhooks' group commit.
    """

    runs_timers = True

    def __init__(
        self,
        settings: Settings,
        threads: int,
        on_signal: Callable[[dict[str, object]], None],
        on_metrics: Callable[[str], None],
        surging: Callable[[], bool] = lambda: False,
        on_death: Callable[[int], None] = lambda pid: None,
    ) -> None:
        self.settings = settings
        self.on_death = on_death
        self.surging = surging
        self.threads = threads
        self.on_signal = on_signal
        self.on_metrics = on_metrics
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._supervisor: threading.Thread | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> int:
        proc = self._proc
        return self.threads if proc is not None and proc.poll() is None and self._ready.is_set() else 0

    def start(self) -> None:
        if self._supervisor is not None:
            return
        self._stop.clear()
        self._supervisor = threading.Thread(
            target=self._supervise, name="relaydesk-worker-process", daemon=True
        )
        self._supervisor.start()

    def wait_ready(self, timeout: float = READY_WAIT_S) -> bool:
        return self._ready.wait(timeout)

    def wake(self) -> None:
        self._send(SURGE if self.surging() else WAKE)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to finish its batches and stop; killed if it has not after `timeout`."""
        self._stop.set()
        self._send(QUIT)
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("the worker process did not stop within %.0f s; killing it", timeout)
                proc.kill()
                proc.wait()
        if self._supervisor is not None:
            self._supervisor.join(timeout)
            self._supervisor = None
        self.on_metrics("")

    def _send(self, byte: bytes) -> None:
        sock = self._sock
        if sock is None:
            return
        with self._send_lock:
            try:
                sock.send(byte, socket.MSG_DONTWAIT)
            except (BlockingIOError, OSError):
                # A full pipe already holds a wake-up, and a dead worker is restarted; the queue
                # is in the database either way (the worker also polls it).
                pass

    def _supervise(self) -> None:
        pause = RESTART_PAUSE_S[0]
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._run_once()
            except Exception:
                log.exception("the worker process could not be started")
            if self._stop.is_set():
                return
            if self._proc is not None:
                try:
                    self.on_death(self._proc.pid)
                except Exception:
                    log.warning("could not give back what the worker process held", exc_info=True)
            if time.monotonic() - started > 60:
                pause = RESTART_PAUSE_S[0]
            self.restarts += 1
            log.warning("the worker process ended; restarting it in %.1f s (the queue keeps the work)", pause)
            if self._stop.wait(pause):
                return
            pause = min(RESTART_PAUSE_S[1], pause * 2)

    def _run_once(self) -> None:
        ours, theirs = socket.socketpair()
        self._ready.clear()
        try:
            # Our own module under this interpreter, no shell, nothing from outside in the command.
            proc = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "relaydesk.pipeline.worker_child", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        self._proc = proc
        settings = {**self.settings.model_dump(mode="json"), "worker_threads": self.threads}
        ours.sendall(json.dumps(settings).encode() + b"\n")
        self._sock = ours
        # A wake-up for what was accepted while no worker listened; a stop asked for while it
        # started (no socket to say it on then) is said now.
        self._send(QUIT if self._stop.is_set() else WAKE)
        try:
            self._read(ours)
        finally:
            self._sock = None
            self._ready.clear()
            ours.close()
            proc.wait()

    def _read(self, sock: socket.socket) -> None:
        with sock.makefile("rb") as lines:
            for line in lines:
                try:
                    message = json.loads(line)
                except ValueError:
                    log.warning("the worker process sent a line that is not JSON; ignored")
                    continue
                try:
                    if "signal" in message:
                        self.on_signal(message["signal"])
                    elif "metrics" in message:
                        self.on_metrics(str(message["metrics"]))
                    elif "ready" in message:
                        self._ready.set()
                except Exception:
                    # One bad line must not cut the server off from its worker.
                    log.warning("a message of the worker process could not be used", exc_info=True)
