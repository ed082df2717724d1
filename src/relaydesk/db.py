"""Engine and session factory for the embedded SQLite default and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so the driver must not open transactions implicitly.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY under concurrency instead of waiting its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
