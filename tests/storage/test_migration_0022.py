"""Migration 0022 on a database with FAQ entries: approved stays approved, the rest become drafts."""

from __future__ import annotations

import json
from typing import Any

from alembic import command
from sqlalchemy import Engine, text

from relaydesk.db import make_engine
from relaydesk.migrate import alembic_config
from tests.storage.test_migration_0004 import empty_url  # noqa: F401 - the fixture, shared

STAMP = "2026-01-01 00:00:00"


def _insert(engine: Engine, table: str, **values: Any) -> None:
    names = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({params})"), values)


def test_existing_entries_keep_their_meaning_and_the_way_back_restores_them(empty_url: str) -> None:  # noqa: F811
    cfg = alembic_config(empty_url)
    command.upgrade(cfg, "0021")
    engine = make_engine(empty_url)
    _insert(
        engine,
        "organizations",
        id=1,
        key="acme",
        name="Acme",
        default_timezone="UTC",
        reopen_window_hours=72,
        created_at=STAMP,
    )
    for row_id, key, approved in ((1, "hours", True), (2, "parking", False)):
        _insert(
            engine,
            "faq_entries",
            id=row_id,
            org_id=1,
            key=key,
            question=f"{key}?",
            answer=f"{key}!",
            language="fa",
            approved=approved,
        )
    _insert(engine, "departments", id=1, org_id=1, key="pr", name="PR", is_default=False, assignment="manual")
    command.upgrade(cfg, "0022")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key, status, answers, variants FROM faq_entries ORDER BY id")).all()
        spokesperson = conn.execute(text("SELECT spokesperson FROM departments")).scalar_one()
    # PostgreSQL hands JSON back decoded, SQLite as text.
    found = {
        key: (status, answers if isinstance(answers, dict) else json.loads(answers))
        for key, status, answers, _variants in rows
    }
    assert found == {"hours": ("approved", {"fa": "hours!"}), "parking": ("draft", {"fa": "parking!"})}
    assert not spokesperson
    command.downgrade(cfg, "0021")
    with engine.connect() as conn:
        back = dict(conn.execute(text("SELECT key, approved FROM faq_entries")).all())
    assert {k: bool(v) for k, v in back.items()} == {"hours": True, "parking": False}
    engine.dispose()
