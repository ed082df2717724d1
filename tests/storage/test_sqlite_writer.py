"""SQLite's single writer slot: threads of one process queue for it; readers never wait for it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from relaydesk import db


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'writer.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
    yield db.make_session_factory(engine)
    engine.dispose()


def test_a_reader_sees_the_last_commit_while_a_writer_holds_the_slot(factory, monkeypatch) -> None:
    # Before: every session began IMMEDIATE, so a read waited for the writer (here: forever).
    monkeypatch.setattr(db, "WRITE_WAIT_SECONDS", 2)
    with db.transaction(factory) as seed:
        seed.execute(text("INSERT INTO item (name) VALUES ('committed')"))
    with db.transaction(factory) as writer:
        writer.execute(text("INSERT INTO item (name) VALUES ('not yet')"))
        with db.reading(factory) as reader:
            names = reader.execute(text("SELECT name FROM item ORDER BY id")).scalars().all()
        assert names == ["committed"]
    with db.reading(factory) as reader:
        assert reader.execute(text("SELECT count(*) FROM item")).scalar() == 2


def test_a_second_writer_waits_its_turn_and_then_writes(factory) -> None:
    order: list[str] = []
    first_holds = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with db.transaction(factory) as session:
            session.execute(text("INSERT INTO item (name) VALUES ('first')"))
            first_holds.set()
            release_first.wait(10)
            order.append("first commits")

    def second() -> None:
        first_holds.wait(10)
        with db.transaction(factory) as session:
            # The transaction begins (takes the slot) at the first statement.
            session.execute(text("INSERT INTO item (name) VALUES ('second')"))
            order.append("second wrote")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_holds.wait(10)
    release_first.set()
    for thread in threads:
        thread.join(20)
    assert order == ["first commits", "second wrote"]
    with db.reading(factory) as reader:
        assert reader.execute(text("SELECT name FROM item ORDER BY id")).scalars().all() == [
            "first",
            "second",
        ]


def test_a_failed_transaction_frees_the_slot(factory, monkeypatch) -> None:
    monkeypatch.setattr(db, "WRITE_WAIT_SECONDS", 2)
    with pytest.raises(RuntimeError), db.transaction(factory) as session:
        session.execute(text("INSERT INTO item (name) VALUES ('rolled back')"))
        raise RuntimeError("boom")
    with pytest.raises(OperationalError), db.transaction(factory) as session:
        session.execute(text("INSERT INTO missing_table VALUES (1)"))
    with db.transaction(factory) as session:
        session.execute(text("INSERT INTO item (name) VALUES ('kept')"))
    with db.reading(factory) as reader:
        assert reader.execute(text("SELECT name FROM item")).scalars().all() == ["kept"]


def test_a_writer_that_cannot_get_the_slot_fails_as_locked(factory, monkeypatch) -> None:
    monkeypatch.setattr(db, "WRITE_WAIT_SECONDS", 0.2)
    with db.transaction(factory) as holder:
        holder.execute(text("INSERT INTO item (name) VALUES ('held')"))
        with pytest.raises(OperationalError, match="database is locked"), db.transaction(factory) as other:
            other.execute(text("INSERT INTO item (name) VALUES ('refused')"))
