"""Faults with real processes: every accepted message is processed exactly once in effect.

A `relaydesk worker` process on PostgreSQL (its private schema) and a private NATS server drains
the work queue while this test accepts messages. One test kills the worker with SIGKILL in the
middle of the stream and starts another; the other cuts the worker's database connections (a
TCP proxy between it and PostgreSQL) for a few seconds while work is pending. Waits are bounded;
nothing is timed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from relaydesk.channels.base import InboundEvent
from relaydesk.config.service import apply_config
from relaydesk.container import Container, build_container
from relaydesk.db import make_engine, transaction
from relaydesk.models import ChannelAccount, Message, TimelineEvent, WorkItem
from relaydesk.pipeline.bus.nats import NatsBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager
from tests.conftest import org_config, passwords_hashed_once
from tests.scale.conftest import PrivateNats

SECRET = "k"  # the same key as the other scale tests: they share one PostgreSQL schema
LEASE_S = "3"


def wait_until(check: Callable[[], bool], seconds: float = 180, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {seconds:.0f} s")


class WorkerProcess:
    """`relaydesk worker` as a child process, with its output kept in a file for the failure report."""

    def __init__(self, database_url: str, nats: PrivateNats, stream: str, tmp: Path, name: str) -> None:
        self.log = tmp / f"{name}.log"
        env = dict(os.environ)
        env.update(
            {
                "RELAYDESK_DATABASE_URL": database_url,
                "RELAYDESK_BUS_URL": nats.url,
                "RELAYDESK_BUS_STREAM": stream,
                "RELAYDESK_SECRET_KEY": SECRET,
                "RELAYDESK_TRIAGE_BACKEND": "lexicon",
                "RELAYDESK_WORK_LEASE_SECONDS": LEASE_S,
                "RELAYDESK_DATA_DIR": str(tmp / "data"),
            }
        )
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "relaydesk.cli.main", "worker"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


class Scenario:
    """The accepting side (this test's container) and the checks on the shared schema."""

    def __init__(self, url: str, tmp: Path, nats: PrivateNats, stream: str, prefix: str) -> None:
        settings = Settings(
            database_url=url,
            data_dir=tmp / "data",
            secret_key=SECRET,
            bus_url=nats.url,
            bus_stream=stream,
            background_tasks=False,
        )
        self.api: Container = build_container(
            settings,
            engine=make_engine(url),
            triager=LexiconTriager(),
            bus=NatsBus(nats.url, stream=stream, ack_wait=2),
            consume=False,
        )
        with transaction(self.api.sessions) as session, passwords_hashed_once():
            apply_config(session, org_config(), self.api.box)
            self.account = session.scalars(
                select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
            ).one()
        self.prefix = prefix
        # The schema is shared with the other scale tests: count only this test's messages.
        self.ours = Message.external_id.like(f"{prefix}%")
        self.accepted: set[str] = set()

    def accept(self, start: int, stop: int) -> None:
        for i in range(start, stop):
            external_id = f"{self.prefix}{i}"
            self.api.pipeline.accept(
                self.account,
                InboundEvent(
                    network="generic",
                    external_id=external_id,
                    # 40 authors: many messages share a conversation, so per-conversation order matters.
                    author_id=f"{self.prefix}author-{i % 40}",
                    text=f"Where is my order {i}? It has not arrived.",
                ),
            )
            self.accepted.add(external_id)

    def processed(self) -> int:
        with self.api.sessions() as session:
            return int(
                session.scalar(
                    select(func.count(Message.id)).where(self.ours, Message.processed_at.is_not(None))
                )
                or 0
            )

    def pending_items(self) -> int:
        with self.api.sessions() as session:
            return int(
                session.scalar(
                    select(func.count(WorkItem.id))
                    .join(Message, Message.id == WorkItem.message_id)
                    .where(self.ours)
                )
                or 0
            )

    def assert_exactly_once(self) -> None:
        with self.api.sessions() as session:
            stored = set(session.scalars(select(Message.external_id).where(self.ours)))
            assert stored == self.accepted  # nothing accepted was lost
            unprocessed = session.scalar(
                select(func.count(Message.id)).where(self.ours, Message.processed_at.is_(None))
            )
            assert unprocessed == 0
            per_message = session.execute(
                select(Message.external_id, func.count(TimelineEvent.id))
                .join(TimelineEvent, TimelineEvent.message_id == Message.id)
                .where(self.ours, TimelineEvent.kind == "triage")
                .group_by(Message.external_id)
            ).all()
            counts = {external_id: count for external_id, count in per_message}
            assert set(counts) == self.accepted
            twice = {k: v for k, v in counts.items() if v != 1}
            assert twice == {}, f"processed more than once: {sorted(twice)[:10]}"
        assert self.pending_items() == 0

    def close(self) -> None:
        self.api.close()


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


@pytest.mark.postgres
def test_a_worker_killed_mid_stream_loses_and_duplicates_nothing(
    pg_schema_url: str, tmp_path: Path, private_nats: PrivateNats, workers: list[WorkerProcess]
) -> None:
    stream = "RDKILL"
    scenario = Scenario(pg_schema_url, tmp_path, private_nats, stream, prefix="kill-")
    try:
        scenario.accept(0, 120)
        first = WorkerProcess(pg_schema_url, private_nats, stream, tmp_path, "worker-1")
        workers.append(first)
        wait_until(
            lambda: scenario.processed() >= 10 or not first.alive(), what="the first worker processing"
        )
        assert first.alive(), first.output()
        first.kill()  # SIGKILL: no cleanup, its leases and its open transaction die with it
        killed_at = scenario.processed()
        # More arrives while no worker runs: the stream was cut in the middle.
        scenario.accept(120, 200)
        assert killed_at < len(scenario.accepted)

        second = WorkerProcess(pg_schema_url, private_nats, stream, tmp_path, "worker-2")
        workers.append(second)
        wait_until(
            lambda: scenario.processed() == len(scenario.accepted) and scenario.pending_items() == 0,
            what=f"all {len(scenario.accepted)} messages processed",
        )
        assert second.alive(), second.output()
        scenario.assert_exactly_once()
    finally:
        scenario.close()


class CuttableProxy:
    """A TCP proxy on a loopback port in front of PostgreSQL that can be cut and restored.

    Cut: every open connection is closed and new ones are closed as soon as they arrive, as a
    database host that went away (or a network partition the client notices) looks to a client.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.connections = 0
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        self._cut.set()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            self._drop(sock)

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self.listener.close()


def through(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@pytest.mark.postgres
def test_a_database_cut_under_the_worker_loses_and_duplicates_nothing(
    pg_schema_url: str, tmp_path: Path, private_nats: PrivateNats, workers: list[WorkerProcess]
) -> None:
    stream = "RDCUT"
    upstream = make_url(pg_schema_url)
    proxy = CuttableProxy(upstream.host or "127.0.0.1", upstream.port or 5432)
    scenario = Scenario(pg_schema_url, tmp_path, private_nats, stream, prefix="cut-")
    try:
        worker = WorkerProcess(through(pg_schema_url, proxy.port), private_nats, stream, tmp_path, "worker")
        workers.append(worker)
        scenario.accept(0, 60)
        wait_until(lambda: scenario.processed() >= 5 or not worker.alive(), what="the worker processing")
        assert worker.alive(), worker.output()
        proxy.cut()
        # Accepted while the worker cannot reach the database: pending work that must survive.
        scenario.accept(60, 160)
        time.sleep(4)
        assert scenario.processed() < len(scenario.accepted)
        connections_before = proxy.connections
        proxy.restore()
        wait_until(
            lambda: scenario.processed() == len(scenario.accepted) and scenario.pending_items() == 0,
            what=f"all {len(scenario.accepted)} messages processed after the cut",
        )
        assert worker.alive(), worker.output()  # it rode out the cut instead of dying
        assert proxy.connections > connections_before  # it did reconnect through the proxy
        scenario.assert_exactly_once()
    finally:
        scenario.close()
        proxy.close()
