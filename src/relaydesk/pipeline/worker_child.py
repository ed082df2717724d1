"""The embedded server's worker process, as `worker_process.WorkerProcess` starts it (not by hand).

`python -m relaydesk.pipeline.worker_child FD`: FD is this end of the socket pair; the server
sends the settings first (one JSON line). The worker drains the queue with its threads until the
server says ``q`` or goes away (end of file), then finishes the batches in hand and exits.
"""

from __future__ import annotations

import gc
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relaydesk.core.live import LiveSignal
from relaydesk.pipeline.staging import SURGE_MEMORY_SECONDS
from relaydesk.pipeline.worker_process import QUIT, SURGE, WAKE
from relaydesk.settings import Settings
from relaydesk.triage.base import TriageInput

log = logging.getLogger("relaydesk.worker")

# One line in each language the triage reads first.
WARM_UP = (
    "Is the shop open on Friday?",
    "آیا فروشگاه جمعه باز است؟",
    "هل المتجر مفتوح يوم الجمعة؟",
    "האם החנות פתוחה ביום שישי?",
    "ร้านเปิดวันศุกร์ไหม",
)
METRICS_EVERY_S = 5.0
# As often as the server ran them itself. Every 2 s was tried: smaller rounds, but each round's
# reads (due clocks, waiting conversations) cost more than they saved (`relaydesk bench e2e`:
# p50 556 ms against 200-250 ms).
TIMERS_EVERY_S = 15.0


class Parent:
    """The server's end of the socket: JSON lines to it; a write that fails means it is gone."""

    def __init__(self, sock: socket.socket, gone: threading.Event) -> None:
        self.sock = sock
        self.gone = gone
        self._lock = threading.Lock()

    def send(self, message: dict[str, object]) -> None:
        data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            try:
                self.sock.sendall(data)
            except OSError:
                self.gone.set()

    def relay(self, signal_: LiveSignal) -> None:
        self.send({"signal": signal_.model_dump(mode="json")})


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     [worker] %(message)s")
    # Ctrl-C in the terminal reaches the whole process group: the server stops us in order. A
    # service manager's SIGTERM may reach us first: finish the batches in hand, then exit.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_in_order)
    sock = socket.socket(fileno=int(argv[1]))
    incoming = sock.makefile("rb")
    settings = Settings(**json.loads(incoming.readline()))

    from relaydesk.container import build_container
    from relaydesk.core import live, metrics
    from relaydesk.pipeline.bus.inproc import InProcessBus

    gone = threading.Event()
    parent = Parent(sock, gone)
    container = build_container(settings, bus=InProcessBus())
    live.FEED.add_relay(parent.relay)
    # Language identification and the triage's word lists load on first use: the first customer
    # after a restart waited ~0.9 s for them (`relaydesk bench push`).
    try:
        container.triage.triager.triage([TriageInput(text=text) for text in WARM_UP])
    except Exception:
        log.warning("warming up the triage failed; the first messages load it", exc_info=True)
    workers = container.workers
    surge_until = [0.0]
    container.pipeline.surging = lambda: time.monotonic() < surge_until[0]
    # As `serve` does (cli/main.py GC_THRESHOLDS): what is loaded lives as long as the process,
    # and the default thresholds ran a full collection about once a second under load.
    gc.freeze()
    gc.set_threshold(20_000, 20, 10)
    workers.start()
    parent.send({"ready": workers.threads})
    log.info("draining the work queue with %d thread(s)", workers.threads)
    threading.Thread(target=_send_metrics, args=(parent, metrics.exposition), daemon=True).start()
    threading.Thread(target=_run_timers, args=(gone, container.conversations.tick), daemon=True).start()
    _start_learning(gone, container, settings)
    try:
        while not gone.is_set():
            byte = incoming.read(1)
            if byte == SURGE:
                surge_until[0] = time.monotonic() + SURGE_MEMORY_SECONDS
            if byte in (WAKE, SURGE):
                workers.wake()
            elif byte in (QUIT, b""):
                break
    finally:
        gone.set()
        workers.stop()
        container.close()
    return 0


def _exit_in_order(_signum: int, _frame: object) -> None:
    raise SystemExit(0)  # unwinds main()'s wait for the server, through its `finally`


def _run_timers(gone: threading.Event, tick: Callable[[], object]) -> None:
    while not gone.wait(TIMERS_EVERY_S):
        try:
            tick()
        except Exception:
            # The database is away for a moment: the timers catch up on a later round.
            log.warning("timers failed; retrying", exc_info=True)


def _start_learning(gone: threading.Event, container: Any, settings: Settings) -> None:
    """Refit the sentiment head on the team's corrections on the settings' schedule."""
    from datetime import timedelta

    from relaydesk.db import reading
    from relaydesk.triage.learning_schedule import LearningSchedule
    from relaydesk.triage.service import correction_examples

    def examples() -> list[tuple[str, str, str]]:
        with reading(container.sessions) as session:
            return correction_examples(session)

    schedule = LearningSchedule(
        container.triage.triager,
        Path(settings.data_dir) / "models",
        timedelta(hours=settings.learn_every_hours),
        examples,
    )
    threading.Thread(target=schedule.run, args=(gone,), daemon=True).start()


def _send_metrics(parent: Parent, exposition: Callable[[], bytes]) -> None:
    last = b""
    while not parent.gone.wait(METRICS_EVERY_S):
        text = exposition()
        if text != last:
            last = text
            parent.send({"metrics": text.decode()})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
