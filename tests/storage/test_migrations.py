"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text

from relaydesk.db import make_engine
from relaydesk.migrate import alembic_config, upgrade
from relaydesk.models import Base
from tests.conftest import PG_URL


def _diff(engine: object) -> list[object]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    upgrade(url)  # a second upgrade is a no-op
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert _diff(engine) == []
    engine.dispose()


@pytest.mark.postgres
def test_postgres_migrations_match_models(pg_schema_url: str) -> None:
    schema = f"rd_mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        engine = make_engine(url)
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
        assert _diff(engine) == []
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _filler(column: Any) -> Any:
    """A value for a NOT NULL column without a default (the rows below only need to exist)."""
    kind = column.type.__class__.__name__.lower()
    if "int" in kind:
        return 1
    if "bool" in kind:
        return False
    if "date" in kind or "time" in kind:
        return datetime(2026, 1, 1, tzinfo=UTC)
    if "json" in kind:
        return {}
    return "x"


def _insert(conn: Any, table: Any, **values: Any) -> None:
    row = {
        c.name: _filler(c)
        for c in table.columns
        if not c.nullable and c.server_default is None and c.name not in values
    }
    conn.execute(table.insert().values(**{**row, **values}))


def _with_ancestors(meta: MetaData, names: list[str]) -> list[Any]:
    wanted: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += [fk.column.table.name for fk in meta.tables[name].foreign_keys if not fk.parent.nullable]
    return [t for t in meta.sorted_tables if t.name in wanted]


def _migration_0010_backfill(url: str) -> None:
    cfg = alembic_config(url)
    command.upgrade(cfg, "0003")
    engine = make_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        for table in _with_ancestors(meta, ["conversations", "messages", "timeline_events"]):
            if table.name not in ("conversations", "messages", "timeline_events"):
                _insert(conn, table, id=1)
        conversations, messages, events = (
            meta.tables[n] for n in ("conversations", "messages", "timeline_events")
        )
        # the old behaviour: the conversation's values followed the newest message
        for cid in (1, 2):
            _insert(conn, conversations, id=cid, intent="purchase_interest", sentiment="positive")
        for mid, cid, intent, sentiment in (
            (1, 1, "order_issue", "negative"),
            (2, 1, "purchase_interest", "positive"),
            (3, 2, "purchase_interest", "positive"),
        ):
            reading = {"intent": intent, "sentiment": sentiment, "lang": "en"}
            _insert(
                conn,
                messages,
                id=mid,
                conversation_id=cid,
                external_id=f"m{mid}",
                direction="inbound",
                triage=reading,
            )
        _insert(conn, events, id=1, conversation_id=1, message_id=1, kind="route")
        _insert(conn, events, id=2, conversation_id=1, message_id=2, kind="triage")
    engine.dispose()
    command.upgrade(cfg, "head")
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, intent, sentiment, latest_intent, latest_sentiment FROM conversations ORDER BY id"
            )
        ).all()
    engine.dispose()
    # routed on message 1; the newest reading kept as the latest. No route event: unchanged.
    assert [tuple(r) for r in rows] == [
        (1, "order_issue", "negative", "purchase_interest", "positive"),
        (2, "purchase_interest", "positive", "purchase_interest", "positive"),
    ]


def test_sqlite_migration_0010_keeps_the_routed_reading(tmp_path: Path) -> None:
    _migration_0010_backfill(f"sqlite:///{tmp_path / 'm6.db'}")


@pytest.mark.postgres
def test_postgres_migration_0010_keeps_the_routed_reading(pg_schema_url: str) -> None:
    schema = f"rd_mig6_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        _migration_0010_backfill(f"{PG_URL}?options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
