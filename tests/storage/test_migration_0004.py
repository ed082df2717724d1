"""Migration 0004 on a database with data: identities made unique, outbox keys scoped, nothing lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from relaydesk.db import make_engine
from relaydesk.migrate import MigrationBlocked, alembic_config, upgrade
from tests.conftest import PG_URL

STAMP = "2026-01-01 00:00:00"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables yet (SQLite file or a private PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    request.getfixturevalue("pg_schema_url")  # skips when PostgreSQL is unreachable
    schema = f"rd_m4_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _insert(engine: Engine, table: str, **values: Any) -> int:
    names = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    with engine.begin() as conn:
        return int(
            conn.execute(
                text(f"INSERT INTO {table} ({names}) VALUES ({params}) RETURNING id"), values
            ).scalar_one()
        )


def _org(engine: Engine, key: str) -> tuple[int, int]:
    org = _insert(
        engine,
        "organizations",
        key=key,
        name=key,
        default_timezone="UTC",
        reopen_window_hours=72,
        created_at=STAMP,
    )
    location = _insert(
        engine, "locations", org_id=org, kind="location", key="shop", name="Shop", path="/", timezone="UTC"
    )
    return org, location


def _account(
    engine: Engine, org: tuple[int, int], key: str, network: str, external_id: str | None, active: bool
) -> int:
    return _insert(
        engine,
        "channel_accounts",
        org_id=org[0],
        location_id=org[1],
        key=key,
        network=network,
        handle=key,
        external_id=external_id,
        name="",
        settings="{}",
        active=active,
    )


def _reply(engine: Engine, org_id: int, account_id: int, key: str) -> tuple[int, int]:
    """A conversation with one outbound message queued in the outbox under `key`."""
    contact = _insert(engine, "contacts", org_id=org_id, display_name="C", attributes="{}", created_at=STAMP)
    location = _scalar(engine, f"SELECT location_id FROM channel_accounts WHERE id = {account_id}")
    conversation = _insert(
        engine,
        "conversations",
        org_id=org_id,
        account_id=account_id,
        location_id=location,
        contact_id=contact,
        network="facebook",
        subject="",
        status="open",
        priority="normal",
        tags="[]",
        last_message_at=STAMP,
        transfer_count=0,
        created_at=STAMP,
        updated_at=STAMP,
    )
    message = _insert(
        engine,
        "messages",
        org_id=org_id,
        conversation_id=conversation,
        account_id=account_id,
        direction="outbound",
        kind="message",
        text="hello",
        attachments="[]",
        raw="{}",
        sent_at=STAMP,
        created_at=STAMP,
    )
    _insert(
        engine,
        "outbox",
        org_id=org_id,
        message_id=message,
        account_id=account_id,
        idempotency_key=key,
        status="queued",
        attempts=0,
        next_attempt_at=STAMP,
        payload="{}",
        created_at=STAMP,
    )
    return conversation, message


def _scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _version(engine: Engine) -> str:
    return str(_scalar(engine, "SELECT version_num FROM alembic_version"))


def test_upgrade_settles_inactive_duplicates_and_keeps_every_message(empty_url: str) -> None:
    command.upgrade(alembic_config(empty_url), "0003")
    engine = make_engine(empty_url)
    try:
        victim, other = _org(engine, "victim"), _org(engine, "other")
        page = _account(engine, victim, "fb", "facebook", "1234", active=True)
        # Removed from a file (deactivated) and re-added under a new key: the same org, twice.
        old_key = _account(engine, victim, "fb-old", "facebook", "1234", active=False)
        # Another org's old, inactive claim on a number the victim now holds.
        number = _account(engine, victim, "wa", "whatsapp", "555", active=True)
        stale = _account(engine, other, "wa", "whatsapp", "555", active=False)
        unconnected = [_account(engine, other, f"new-{i}", "facebook", None, active=True) for i in range(2)]
        conversation, message = _reply(engine, victim[0], page, "client-key-1")

        upgrade(empty_url)

        head = ScriptDirectory.from_config(alembic_config(empty_url)).get_current_head()
        assert _version(engine) == head
        with engine.connect() as conn:
            held = {
                row.id: row.external_id
                for row in conn.execute(text("SELECT id, external_id FROM channel_accounts"))
            }
        assert held[page] == "1234" and held[number] == "555"
        assert held[old_key] is None and held[stale] is None
        assert all(held[i] is None for i in unconnected)
        # Rebuilding tables on SQLite must not have cascaded into the conversations.
        assert _scalar(engine, f"SELECT count(*) FROM messages WHERE id = {message}") == 1
        assert _scalar(engine, "SELECT count(*) FROM conversations") == 1
        with engine.connect() as conn:
            item = conn.execute(
                text("SELECT conversation_id, request_key, idempotency_key FROM outbox")
            ).one()
        assert (item.conversation_id, item.request_key, item.idempotency_key) == (
            conversation,
            "client-key-1",
            "client-key-1",
        )
        with pytest.raises(IntegrityError):
            _account(engine, other, "hijack", "facebook", "1234", active=True)
    finally:
        engine.dispose()


def test_upgrade_refuses_an_identity_two_active_accounts_hold_and_changes_nothing(empty_url: str) -> None:
    command.upgrade(alembic_config(empty_url), "0003")
    engine = make_engine(empty_url)
    try:
        victim, attacker = _org(engine, "victim"), _org(engine, "attacker")
        first = _account(engine, victim, "fb", "facebook", "1234", active=True)
        second = _account(engine, attacker, "stolen", "facebook", "1234", active=True)
        inactive = _account(engine, victim, "fb-old", "facebook", "1234", active=False)

        with pytest.raises(MigrationBlocked) as blocked:
            upgrade(empty_url)

        message = str(blocked.value)
        assert "facebook 1234" in message
        assert f"account {first} (victim/fb)" in message and f"account {second} (attacker/stolen)" in message
        assert _version(engine) == "0003"
        with engine.connect() as conn:
            still = conn.execute(
                text(f"SELECT external_id FROM channel_accounts WHERE id = {inactive}")
            ).scalar()
        assert still == "1234"
    finally:
        engine.dispose()
