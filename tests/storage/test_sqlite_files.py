"""The embedded database holds customer messages and sealed credentials: owner-only on disk."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from relaydesk.auth.crypto import resolve_secret_key
from relaydesk.db import make_engine
from relaydesk.settings import Settings


@pytest.fixture
def usual_umask() -> Iterator[None]:
    # The mode a file gets by default comes from the umask; 022 (files 0644) is the usual one.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_file_and_its_folder_are_private(tmp_path: Path, usual_umask: None) -> None:
    database = tmp_path / "var" / "data" / "relaydesk.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x TEXT)"))
        connection.execute(text("INSERT INTO t VALUES ('a customer message')"))
    assert _mode(database) == 0o600
    assert _mode(database.parent) == 0o700 and _mode(database.parent.parent) == 0o700
    wal = database.with_name(database.name + "-wal")
    assert wal.exists() and _mode(wal) == 0o600  # SQLite copies the database file's mode
    engine.dispose()


def test_an_existing_folder_keeps_its_mode(tmp_path: Path, usual_umask: None) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    engine = make_engine(f"sqlite:///{shared / 'relaydesk.db'}")
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert _mode(shared) == 0o755 and _mode(shared / "relaydesk.db") == 0o600
    engine.dispose()


def test_the_development_key_file_and_data_dir_are_private(tmp_path: Path, usual_umask: None) -> None:
    data_dir = tmp_path / "var"
    resolve_secret_key(Settings(data_dir=data_dir, secret_key=None))
    assert _mode(data_dir) == 0o700 and _mode(data_dir / "secret.key") == 0o600
