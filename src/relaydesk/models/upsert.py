"""INSERT ... ON CONFLICT for both dialects: the race-free way to create-if-absent (or update)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def conflict_insert(session: Session, table: Any) -> Any:
    """An INSERT of `table` that can say ON CONFLICT, in the session's dialect (PostgreSQL or SQLite)."""
    builder = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return builder(table)


def insert_ignore(session: Session, table: Any, values: dict[str, Any], conflict: list[str]) -> int | None:
    """Insert a row unless one with the same `conflict` columns exists; return the new id or None."""
    stmt = conflict_insert(session, table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    row = session.execute(stmt.returning(table.c.id)).first()
    return None if row is None else int(row[0])
