"""Engine and session factory for the embedded SQLite default and PostgreSQL."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.core.files import create_private_file, make_private_dir


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return normalize_url(url).startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # Customer messages and sealed credentials live in this file: owner-only from the start
            # (SQLite gives its -wal and -shm files the same mode as the database file).
            make_private_dir(Path(database).parent)
            create_private_file(Path(database))
        if database and database != ":memory:":
            # As many as the web server's thread pool (40) and the workers use at once: past the
            # pool size every checkout opened a new connection and ran its PRAGMAs again.
            kwargs.setdefault("pool_size", 48)
            kwargs.setdefault("max_overflow", 16)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": WRITE_WAIT_SECONDS}, **kwargs
        )
        _configure_sqlite(engine, _write_lock(database or ""))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


# How long a write waits for SQLite's single writer slot before failing as "database is locked".
WRITE_WAIT_SECONDS = 30
# Execution option of a connection that only reads: it begins a deferred transaction (below).
READ_ONLY = "relaydesk_read_only"
# Execution option of the webhook's group commit: it takes SQLite's writer slot before any
# waiting worker, so a network's answer never queues behind a backlog being processed.
URGENT = "relaydesk_urgent_write"
_HOLDS_LOCK = "relaydesk_holds_write_lock"


class FileWriterLock:
    """SQLite's writer turn shared with the other processes on the same database file.

    The embedded server processes messages in a worker process of its own (pipeline/
    worker_process.py). Without this, the two would meet only in SQLite's busy handler, which
    sleeps up to 100 ms between its polls: a webhook's group commit waiting behind a worker's
    transaction would answer that much later. Here a waiting writer sees the turn free within
    POLL_MAX_S, and an urgent writer (the webhooks' group commit) shows it waits by holding a
    shared lock on a second file, which the other process's writers defer to and which a worker's
    transaction probes between its rows to commit early (`urgent_waiting`).
    """

    POLL_MIN_S = 0.0002
    POLL_MAX_S = 0.002

    def __init__(self, database: str) -> None:
        self._paths = (f"{database}.writer-lock", f"{database}.urgent-lock")
        self._pid = -1
        self._writer = self._flag = self._probe = -1

    def _open(self) -> None:
        # Per process: a forked child sharing its parent's descriptors would share its locks too.
        if self._pid != os.getpid():
            writer, flag = (_private_lock_file(path) for path in self._paths)
            # Two descriptors on the flag file: flock treats one descriptor's locks as one, so
            # probing on the descriptor that holds the shared lock would convert it instead.
            self._writer, self._flag, self._probe = writer, flag, _private_lock_file(self._paths[1])
            self._pid = os.getpid()

    def acquire(self, *, urgent: bool, deadline: float) -> bool:
        self._open()
        if urgent:
            fcntl.flock(self._flag, fcntl.LOCK_SH)  # only ever waits for a probe's instant
        try:
            if not urgent and not _poll(self._urgent_done, deadline):
                return False
            return _poll(lambda: _try_flock(self._writer, fcntl.LOCK_EX), deadline)
        finally:
            if urgent:
                fcntl.flock(self._flag, fcntl.LOCK_UN)

    def release(self) -> None:
        if self._pid == os.getpid():
            fcntl.flock(self._writer, fcntl.LOCK_UN)

    def urgent_waiting(self) -> bool:
        """Whether another process's urgent writer waits for the turn (one probe, no waiting)."""
        if self._pid != os.getpid():
            return False
        return not self._urgent_done()

    def _urgent_done(self) -> bool:
        if not _try_flock(self._probe, fcntl.LOCK_EX):
            return False
        fcntl.flock(self._probe, fcntl.LOCK_UN)
        return True


def _private_lock_file(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)


def _try_flock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _poll(ready: Callable[[], bool], deadline: float) -> bool:
    pause = FileWriterLock.POLL_MIN_S
    while not ready():
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(FileWriterLock.POLL_MAX_S, pause * 2)
    return True


class WriterSlot:
    """The process's turn at SQLite's single writer: urgent writers are served first.

    With `files`, the turn is also taken from the other processes on the same database file.
    """

    def __init__(self, files: FileWriterLock | None = None) -> None:
        self._free = threading.Condition()
        self._held = False
        self._urgent_waiting = 0
        self.files = files

    def acquire(self, *, urgent: bool = False, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._free:
            if urgent:
                self._urgent_waiting += 1
            try:
                while self._held or (not urgent and self._urgent_waiting):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._free.wait(remaining)
                self._held = True
            finally:
                if urgent:
                    self._urgent_waiting -= 1
        if self.files is not None and not self.files.acquire(urgent=urgent, deadline=deadline):
            self._give_back()
            return False
        return True

    @property
    def urgent_waiting(self) -> bool:
        return self._urgent_waiting > 0 or (self.files is not None and self.files.urgent_waiting())

    def release(self) -> None:
        if self.files is not None:
            self.files.release()
        self._give_back()

    def _give_back(self) -> None:
        with self._free:
            self._held = False
            self._free.notify_all()


_WRITE_LOCKS: dict[str, WriterSlot] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(database: str) -> WriterSlot:
    """One slot per database file for every engine of this process that writes to it."""
    key = database if database and database != ":memory:" else f"memory-{id(object())}"
    # Only a file on disk can have writers in other processes (URIs name in-memory databases).
    on_disk = key == database and not database.startswith("file:")
    with _WRITE_LOCKS_GUARD:
        slot = _WRITE_LOCKS.get(key)
        if slot is None:
            slot = _WRITE_LOCKS[key] = WriterSlot(FileWriterLock(database) if on_disk else None)
        return slot


# How long one background write transaction (a worker's chunk of messages, the timers' round) may
# go on taking more rows. SQLite has one writer and the webhooks' group commit must not wait long
# behind it. On PostgreSQL a longer chunk would read less per message but holds its agents' rows
# locked longer: at 250 ms, 2 and 4 scale-out workers processed 11.4 and 9.1 msg/s, at 20 ms 54.4
# and 41.0 (`relaydesk bench scale`).
WRITE_BUDGET_SECONDS = 0.02
# ... and how long it goes on once the group commit waits for it. Committing at once (0 ms) cut
# every chunk to one message while webhooks kept arriving: each chunk then read its batch again.
URGENT_BUDGET_SECONDS = 0.005


def turn_over(session: Session, started: float) -> bool:
    """Whether a background write transaction that began at `started` (perf_counter) should
    commit now and leave the rest to its next transaction."""
    spent = time.perf_counter() - started
    return spent > WRITE_BUDGET_SECONDS or (spent > URGENT_BUDGET_SECONDS and urgent_writer_waiting(session))


def urgent_writer_waiting(session: Session) -> bool:
    """Whether an urgent write (the webhooks' group commit) waits for this SQLite transaction to end.

    A worker's transaction checks it between rows and commits early: under a surge the worker
    gets little of the interpreter lock, so its 20 ms of rows took 25-120 ms while it held the
    only writer slot and every webhook waited (measured with `relaydesk bench ingest`).
    """
    url = session.get_bind().engine.url
    if not url.get_backend_name().startswith("sqlite"):
        return False
    slot = _WRITE_LOCKS.get(url.database or "")
    return slot is not None and slot.urgent_waiting


def _configure_sqlite(engine: Engine, lock: WriterSlot) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so the driver must not open transactions implicitly.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={WRITE_WAIT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # WAL readers see the last commit and never wait for the writer.
            connection.exec_driver_sql("BEGIN")
            return
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY under concurrency instead of waiting its turn. The
        # threads of this process queue on a lock first: SQLite's own busy handler polls with
        # sleeps of up to 100 ms, which under a burst starves webhook accepts behind workers.
        # The lock is held until the connection goes back to the pool, after its COMMIT.
        info = connection.info
        if not info.get(_HOLDS_LOCK):
            urgent = bool(connection.get_execution_options().get(URGENT))
            if not lock.acquire(urgent=urgent, timeout=WRITE_WAIT_SECONDS):
                raise OperationalError(
                    "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
                )
            info[_HOLDS_LOCK] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(info)
            raise

    def _release(info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_LOCK, False):
            lock.release()

    @event.listens_for(engine, "reset")
    def on_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        _release(record.info)

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)

    @event.listens_for(engine, "invalidate")
    def on_invalidate(_dbapi_connection: Any, record: Any, _exc: Any) -> None:
        _release(record.info)


def ping(engine: Engine) -> None:
    """Touch the database (readiness): raises if it cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")


# Rows sampled per index: 1,000 left the org-wide index looking selective and the one-shop read
# slow; 10,000 gives the right plan at 50,000 conversations in ~20 ms (a full ANALYZE: ~80 ms).
ANALYSIS_ROWS = 10_000


def refresh_planner_statistics(engine: Engine) -> None:
    """Give SQLite's planner table statistics; without them it picks indexes by rule of thumb.

    With no statistics, a person scoped to one shop of a 1,000-location chain has their inbox
    read by walking the whole org's activity index (~10x slower at 50,000 conversations, see
    `relaydesk bench scope`). `analysis_limit` samples each index, so the cost stays bounded
    however large the database grows. PostgreSQL's autovacuum already does this.
    """
    if engine.dialect.name != "sqlite":
        return
    # In a transaction that commits: ANALYZE writes sqlite_stat1, and a rolled-back one is lost.
    with engine.begin() as connection:
        connection.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_ROWS}")
        connection.exec_driver_sql("ANALYZE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that only reads: on SQLite it never queues behind a writer (WAL snapshot)."""
    with factory() as session:
        session.connection(execution_options={READ_ONLY: True})
        yield session


@contextmanager
def transaction(factory: sessionmaker[Session], *, urgent: bool = False) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any error.

    `urgent`: on SQLite, served before other writers of this process (see URGENT).
    """
    session = factory()
    if urgent:
        session.connection(execution_options={URGENT: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
