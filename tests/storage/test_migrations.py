"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from relaydesk.db import make_engine
from relaydesk.migrate import upgrade
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
