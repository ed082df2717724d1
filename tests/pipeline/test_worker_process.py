"""The embedded server's worker process (pipeline/worker_process.py, worker_child.py), for real.

A real child process drains the queue of a real SQLite file that the test (standing in for the
web server) accepts into; its live signals reach this process's feed and its numbers this
process's /metrics. Killed with SIGKILL mid-stream, it is started again and every accepted
message ends processed exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from relaydesk.channels.base import InboundEvent
from relaydesk.config.service import apply_config
from relaydesk.container import build_container
from relaydesk.core import live, metrics
from relaydesk.core.timeutil import utcnow
from relaydesk.db import FileWriterLock, transaction
from relaydesk.migrate import upgrade
from relaydesk.models import ChannelAccount, Message, TimelineEvent
from relaydesk.pipeline.worker_process import WorkerProcess
from relaydesk.settings import Settings
from tests.conftest import org_config

WAIT_S = 120.0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Any]:
    """A container as `relaydesk serve` builds it on the embedded default: a worker process."""
    url = f"sqlite:///{tmp_path / 'relaydesk.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key="test-secret-key",
        triage_backend="lexicon",
        worker_threads=2,
    )
    built = build_container(settings, worker_process=True)
    assert isinstance(built.workers, WorkerProcess)
    with transaction(built.sessions) as session:
        apply_config(session, org_config(), built.box)
    built.workers.start()
    assert built.workers.wait_ready(WAIT_S), "the worker process did not start"
    try:
        yield built
    finally:
        built.close()


def _account(container: Any) -> ChannelAccount:
    with container.sessions() as session:
        return session.scalars(select(ChannelAccount).where(ChannelAccount.key == "north-generic")).one()


def _accept(container: Any, prefix: str, n: int) -> None:
    account = _account(container)
    for i in range(n):
        event = InboundEvent(
            network="generic",
            external_id=f"{prefix}-{i}",
            author_id=f"{prefix}-author-{i % 7}",
            author_name="Customer",
            text=f"Is the shop open on Friday? #{i}",
            sent_at=utcnow(),
        )
        container.pipeline.stage(account.org_id, account.id, [event])


def _processed(container: Any, prefix: str) -> int:
    with container.sessions() as session:
        return (
            session.scalar(
                select(func.count(Message.id)).where(
                    Message.external_id.like(f"{prefix}-%"), Message.processed_at.is_not(None)
                )
            )
            or 0
        )


def _wait(check: Any, seconds: float = WAIT_S) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_worker_process_processes_what_the_server_accepted(served: Any) -> None:
    before = live.FEED.last_seq
    counted = _done_count()
    _accept(served, "calm", 5)
    _wait(lambda: _processed(served, "calm") == 5)
    # Its signals reach the pages open on the server: the feed of *this* process.
    _wait(lambda: any(s.conversation_id for s in live.FEED.since(before)[0]))
    # Its numbers are added to the server's own at /metrics (sent every few seconds).
    _wait(lambda: _done_count() >= counted + 5, 30)


def _done_count() -> float:
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        if family.name == "relaydesk_processed":
            return sum(s.value for s in family.samples if s.labels.get("outcome") == "done")
    return 0.0


def test_a_killed_worker_process_is_started_again_and_nothing_is_lost_or_done_twice(served: Any) -> None:
    workers = served.workers
    first = workers.pid
    _accept(served, "kill", 60)
    _wait(lambda: _processed(served, "kill") > 0)
    assert first is not None
    os.kill(first, signal.SIGKILL)  # no cleanup: its leases and its open transaction die with it
    _wait(lambda: workers.pid not in (None, first) and workers.alive > 0)
    _accept(served, "after", 5)
    # Well within the two-minute lease: the server gave back what the dead worker held.
    _wait(lambda: _processed(served, "kill") == 60 and _processed(served, "after") == 5, 60)
    with served.sessions() as session:
        triaged = session.scalars(
            select(TimelineEvent.message_id).where(
                TimelineEvent.kind == "triage",
                TimelineEvent.message_id.in_(select(Message.id).where(Message.external_id.like("kill-%"))),
            )
        ).all()
    assert len(triaged) == len(set(triaged)) == 60  # each message triaged exactly once
    assert workers.restarts >= 1


def test_the_urgent_writer_goes_first_across_processes(tmp_path: Path) -> None:
    """Two locks on one database file stand for two processes (flock: one per descriptor)."""
    worker, server = FileWriterLock(str(tmp_path / "db")), FileWriterLock(str(tmp_path / "db"))
    deadline = time.monotonic() + 10
    assert worker.acquire(urgent=False, deadline=deadline)
    assert not worker.urgent_waiting()
    got = threading.Event()

    def webhooks() -> None:
        assert server.acquire(urgent=True, deadline=time.monotonic() + 10)
        got.set()

    thread = threading.Thread(target=webhooks)
    thread.start()
    _wait(worker.urgent_waiting, 5)  # the worker's chunk sees it and commits early
    assert not got.is_set()
    worker.release()
    assert got.wait(5)
    thread.join()
    # A worker's next transaction waits for the webhooks' commit to end.
    assert not worker.acquire(urgent=False, deadline=time.monotonic() + 0.05)
    server.release()
    assert worker.acquire(urgent=False, deadline=time.monotonic() + 5)
    worker.release()
