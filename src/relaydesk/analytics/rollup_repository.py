"""The report rollups' queries: what changed, each conversation's last contribution, adding to
the rows (analytics/rollups.py), and summing them for a report (analytics/report_service.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from relaydesk.core.rollup_fields import FIELDS, HISTOGRAM_FIELDS
from relaydesk.models import (
    ChannelAccount,
    Conversation,
    Location,
    Organization,
    ReportRefresh,
    report_contributions,
    report_histograms,
    report_rollups,
)


def changed_conversation_ids(session: Session, since: datetime | None) -> list[int]:
    """Conversations changed since `since` (every conversation: None), by id."""
    stmt = select(Conversation.id).order_by(Conversation.id)
    if since is not None:
        stmt = stmt.where(Conversation.updated_at >= since)
    return list(session.scalars(stmt))


def unanswered_created_between(session: Session, start: datetime, end: datetime) -> list[int]:
    """Unanswered conversations created in [start, end): they just had a response window pass."""
    return list(
        session.scalars(
            select(Conversation.id).where(
                Conversation.created_at >= start,
                Conversation.created_at < end,
                Conversation.first_response_at.is_(None),
            )
        )
    )


def org_zones(session: Session) -> dict[int, str]:
    return {
        int(i): str(z) for i, z in session.execute(select(Organization.id, Organization.default_timezone))
    }


def refresh_state(session: Session) -> ReportRefresh:
    state = session.get(ReportRefresh, 1)
    if state is None:
        state = ReportRefresh(id=1)
        session.add(state)
        session.flush()
    return state


def lock_rollups(session: Session) -> None:
    """Refreshers in several processes take turns: a delta applied twice would double-count.
    (SQLite has one writer at a time anyway.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(0x52D0, 0x0001)))


def conversations_by_ids(session: Session, ids: list[int]) -> list[Any]:
    """The columns reports need of these conversations (those that still exist)."""
    return list(
        session.execute(
            select(
                Conversation.id,
                Conversation.org_id,
                Conversation.created_at,
                Conversation.first_response_at,
                Conversation.resolved_at,
                Conversation.next_response_due,
                Conversation.first_response_business_seconds,
                Conversation.department_id,
                Conversation.location_id,
                Conversation.account_id,
                Conversation.assignee_id,
                Conversation.network,
                Conversation.sentiment,
                Conversation.intent,
                Conversation.language,
                Conversation.stage,
                Conversation.tags,
            ).where(Conversation.id.in_(ids))
        ).all()
    )


def account_keys(session: Session, org_id: int) -> dict[int, str]:
    return {
        int(i): str(k)
        for i, k in session.execute(
            select(ChannelAccount.id, ChannelAccount.key).where(ChannelAccount.org_id == org_id)
        )
    }


def contributions(session: Session, ids: list[int]) -> dict[int, Any]:
    c = report_contributions.c
    return {
        int(row.conversation_id): row._mapping
        for row in session.execute(select(report_contributions).where(c.conversation_id.in_(ids)))
    }


def save_contributions(session: Session, ids: list[int], rows: list[dict[str, Any]]) -> None:
    session.execute(delete(report_contributions).where(report_contributions.c.conversation_id.in_(ids)))
    if rows:
        session.execute(insert(report_contributions), rows)


def _upsert_adding(
    session: Session, table: Any, keys: tuple[str, ...], fields: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert the rows (key values, then field values), or add their numbers to the rows already
    there. Plain driver SQL: a batch is tens of thousands of rows of ~60 numbers, and building
    SQLAlchemy parameters for each cost more than the database's own work."""
    if not rows:
        return
    postgres = session.get_bind().dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    columns = (*keys, *fields)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
        + ", ".join(f"{f} = {table.name}.{f} + excluded.{f}" for f in fields)
    )
    if not postgres:  # sqlite3 would store a date through its deprecated default adapter
        at = keys.index("day")  # the only date; converting by position, not by testing 60 values a row
        rows = [(*row[:at], row[at].isoformat(), *row[at + 1 :]) for row in rows]
    session.connection().exec_driver_sql(sql, rows)


def add_to_rollups(session: Session, rows: list[tuple[Any, ...]]) -> None:
    _upsert_adding(session, report_rollups, ROLLUP_KEYS, FIELDS, rows)


def add_to_bands(session: Session, rows: list[tuple[Any, ...]]) -> None:
    _upsert_adding(session, report_histograms, BAND_KEYS, HISTOGRAM_FIELDS, rows)


def drop_empty_rows(session: Session, org_ids: set[int], days: set[date]) -> None:
    """Rows whose conversations all moved away (another day, department...) count nothing now."""
    if not org_ids or not days:
        return
    session.execute(
        delete(report_rollups).where(
            report_rollups.c.org_id.in_(sorted(org_ids)),
            report_rollups.c.day.in_(sorted(days)),
            report_rollups.c.conversations == 0,
        )
    )


def forget_rollups(session: Session) -> None:
    """Empty every rollup table (a rebuild folds everything again)."""
    for table in (report_rollups, report_histograms, report_contributions):
        session.execute(delete(table))


ROLLUP_KEYS = ("org_id", "location_id", "dimension", "day", "department_id", "value")
BAND_KEYS = ("org_id", "location_id", "day", "department_id")


def _rollup_where(
    org_id: int,
    start: date,
    end: date,
    dimension: str,
    place: int,
    department_ids: frozenset[int] | None,
) -> list[Any]:
    c = report_rollups.c
    # The rows of one place: 0 for the whole organisation, else the root of the caller's subtree.
    conditions = [
        c.org_id == org_id,
        c.location_id == place,
        c.dimension == dimension,
        c.day >= start,
        c.day <= end,
    ]
    if department_ids is not None:
        conditions.append(c.department_id.in_(sorted(department_ids)))
    return conditions


def rollup_sums(
    session: Session,
    org_id: int,
    start: date,
    end: date,
    dimension: str,
    place: int,
    department_ids: frozenset[int] | None,
    group_by: tuple[str, ...],
    values: Sequence[str] | None = None,
) -> list[tuple[tuple[Any, ...], list[int]]]:
    """(group key, summed FIELDS) of the rollup rows of [start, end], summed in the database;
    with `values`, of those breakdown values only."""
    c = report_rollups.c
    keys = [c[name] for name in group_by]
    conditions = _rollup_where(org_id, start, end, dimension, place, department_ids)
    if values is not None:
        conditions.append(c.value.in_(sorted(values)))
    stmt = select(*keys, *(func.sum(c[name]) for name in FIELDS)).where(*conditions).group_by(*keys)
    width = len(keys)
    return [(tuple(row[:width]), [int(x or 0) for x in row[width:]]) for row in session.execute(stmt)]


def rollup_counts(
    session: Session,
    org_id: int,
    start: date,
    end: date,
    dimension: str,
    place: int,
    department_ids: frozenset[int] | None,
) -> dict[str, int]:
    """Conversations per breakdown value of [start, end]: one column summed, so a dimension with a
    thousand accounts is cheap to rank before its top lines are summed in full."""
    c = report_rollups.c
    stmt = (
        select(c.value, func.sum(c.conversations))
        .where(*_rollup_where(org_id, start, end, dimension, place, department_ids))
        .group_by(c.value)
    )
    return {str(value): int(count or 0) for value, count in session.execute(stmt) if count}


def band_sums(
    session: Session,
    org_id: int,
    start: date,
    end: date,
    place: int,
    department_ids: frozenset[int] | None,
) -> list[int]:
    """The duration bands of [start, end] of one place summed (HISTOGRAM_FIELDS order)."""
    c = report_histograms.c
    conditions = [c.org_id == org_id, c.location_id == place, c.day >= start, c.day <= end]
    if department_ids is not None:
        conditions.append(c.department_id.in_(sorted(department_ids)))
    row = session.execute(select(*(func.sum(c[name]) for name in HISTOGRAM_FIELDS)).where(*conditions)).one()
    return [int(x or 0) for x in row]


def refresh_watermark(session: Session) -> datetime | None:
    return session.scalar(select(ReportRefresh.watermark).where(ReportRefresh.id == 1))


def location_paths(session: Session, org_id: int) -> dict[int, str]:
    """id -> materialised path of every place of the organisation (the rollups' ancestors)."""
    return {
        int(i): str(p)
        for i, p in session.execute(select(Location.id, Location.path).where(Location.org_id == org_id))
    }
