"""The analytics slice's queries; every conversation read carries the caller's scope, except the
operator's overview at the end (the command line sees every organisation)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.core.rollup_fields import FIELDS, HISTOGRAM_FIELDS
from relaydesk.models import (
    Agency,
    ChannelAccount,
    Conversation,
    Department,
    Location,
    Message,
    Organization,
    ReportRefresh,
    SlaRecord,
    TimelineEvent,
    User,
    UserDepartment,
    report_contributions,
    report_histograms,
    report_rollups,
)


def conversations_created(
    session: Session, scope: Scope, since: datetime | None, until: datetime | None
) -> list[Conversation]:
    stmt = select(Conversation).where(scope.conversation_filter())
    if since is not None:
        stmt = stmt.where(Conversation.created_at >= since)
    if until is not None:
        stmt = stmt.where(Conversation.created_at < until)
    return list(session.scalars(stmt))


def first_inbound_times(session: Session, conversation_ids: list[int]) -> dict[int, datetime]:
    return dict(
        session.execute(
            select(Message.conversation_id, func.min(Message.sent_at))
            .where(Message.conversation_id.in_(conversation_ids), Message.direction == "inbound")
            .group_by(Message.conversation_id)
        )
        .tuples()
        .all()
    )


def sla_results(session: Session, conversation_ids: list[int]) -> Iterable[tuple[int, str, bool]]:
    """(conversation, target, met) of every SLA record, oldest first."""
    return session.execute(
        select(SlaRecord.conversation_id, SlaRecord.target, SlaRecord.met)
        .where(SlaRecord.conversation_id.in_(conversation_ids))
        .order_by(SlaRecord.id)
    ).tuples()


def departments(session: Session, org_id: int) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.org_id == org_id)))


def agency_keys(session: Session, org_id: int) -> dict[int, str]:
    return {a.id: a.key for a in session.scalars(select(Agency).where(Agency.org_id == org_id))}


def approval_events(session: Session, conversation_ids: list[int]) -> Iterable[tuple[int, str, Any]]:
    """(conversation, kind, data) of drafts held for approval and of decisions, oldest first."""
    return session.execute(
        select(TimelineEvent.conversation_id, TimelineEvent.kind, TimelineEvent.data)
        .where(
            TimelineEvent.conversation_id.in_(conversation_ids), TimelineEvent.kind.in_(("draft", "approval"))
        )
        .order_by(TimelineEvent.id)
    ).tuples()


def created_times(session: Session, scope: Scope, since: datetime) -> Iterable[datetime]:
    return session.scalars(
        select(Conversation.created_at).where(scope.conversation_filter(), Conversation.created_at >= since)
    )


# -- the operator's overview (`relaydesk demo`): every organisation, no scope ---------------------


def overview_rows(session: Session) -> list[tuple[Conversation, str | None, str | None]]:
    """Every conversation with its department key and assignee handle, by id."""
    rows = session.execute(
        select(Conversation, Department.key, User.handle)
        .outerjoin(Department, Department.id == Conversation.department_id)
        .outerjoin(User, User.id == Conversation.assignee_id)
        .order_by(Conversation.id)
    ).all()
    return [(conversation, key, handle) for conversation, key, handle in rows]


def first_route_reason(session: Session, conversation_id: int) -> str | None:
    return session.scalars(
        select(TimelineEvent.reason)
        .where(TimelineEvent.conversation_id == conversation_id, TimelineEvent.kind == "route")
        .order_by(TimelineEvent.id)
        .limit(1)
    ).first()


def assigned_among(session: Session, conversation_ids: list[int]) -> list[tuple[int, int]]:
    """(conversation id, assignee id) of those of these conversations that are assigned, by id."""
    return [
        (int(c), int(u))
        for c, u in session.execute(
            select(Conversation.id, Conversation.assignee_id)
            .where(Conversation.id.in_(conversation_ids), Conversation.assignee_id.is_not(None))
            .order_by(Conversation.id)
        )
        if u is not None
    ]


def answered_conversation_ids(session: Session) -> set[int]:
    """Conversations with at least one outbound message."""
    return set(
        session.scalars(select(Message.conversation_id).where(Message.direction == "outbound").distinct())
    )


# -- report rollups (analytics/rollups.py folds, analytics/report_service.py reads) ----------------


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
        rows = [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows]
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
    location_ids: frozenset[int] | None,
    department_ids: frozenset[int] | None,
) -> list[Any]:
    c = report_rollups.c
    conditions = [c.org_id == org_id, c.dimension == dimension, c.day >= start, c.day <= end]
    # None: the organisation-wide rows (location 0); otherwise those locations' own rows.
    conditions.append(
        c.location_id.in_(sorted(location_ids)) if location_ids is not None else c.location_id == 0
    )
    if department_ids is not None:
        conditions.append(c.department_id.in_(sorted(department_ids)))
    return conditions


def rollup_sums(
    session: Session,
    org_id: int,
    start: date,
    end: date,
    dimension: str,
    location_ids: frozenset[int] | None,
    department_ids: frozenset[int] | None,
    group_by: tuple[str, ...],
) -> list[tuple[tuple[Any, ...], list[int]]]:
    """(group key, summed FIELDS) of the rollup rows of [start, end], summed in the database."""
    c = report_rollups.c
    keys = [c[name] for name in group_by]
    stmt = (
        select(*keys, *(func.sum(c[name]) for name in FIELDS))
        .where(*_rollup_where(org_id, start, end, dimension, location_ids, department_ids))
        .group_by(*keys)
    )
    width = len(keys)
    return [(tuple(row[:width]), [int(x or 0) for x in row[width:]]) for row in session.execute(stmt)]


def band_sums(
    session: Session,
    org_id: int,
    start: date,
    end: date,
    location_ids: frozenset[int] | None,
    department_ids: frozenset[int] | None,
) -> list[int]:
    """The duration bands of [start, end] summed (HISTOGRAM_FIELDS order)."""
    c = report_histograms.c
    conditions = [c.org_id == org_id, c.day >= start, c.day <= end]
    conditions.append(
        c.location_id.in_(sorted(location_ids)) if location_ids is not None else c.location_id == 0
    )
    if department_ids is not None:
        conditions.append(c.department_id.in_(sorted(department_ids)))
    row = session.execute(select(*(func.sum(c[name]) for name in HISTOGRAM_FIELDS)).where(*conditions)).one()
    return [int(x or 0) for x in row]


def location_names(session: Session, org_id: int, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id -> (key, name) of these locations."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        int(i): (str(k), str(n))
        for i, k, n in session.execute(
            select(Location.id, Location.key, Location.name).where(
                Location.org_id == org_id, Location.id.in_(wanted)
            )
        )
    }


def user_names(session: Session, org_id: int, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id -> (handle, name) of these people."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        int(i): (str(h), str(n))
        for i, h, n in session.execute(
            select(User.id, User.handle, User.name).where(User.org_id == org_id, User.id.in_(wanted))
        )
    }


def location_subtree_ids(session: Session, org_id: int, path: str) -> frozenset[int]:
    return frozenset(
        session.scalars(
            select(Location.id).where(
                Location.org_id == org_id, Location.path.startswith(path, autoescape=True)
            )
        )
    )


def location_by_key(session: Session, org_id: int, key: str) -> Location | None:
    return session.scalars(select(Location).where(Location.org_id == org_id, Location.key == key)).first()


def org_zone(session: Session, org_id: int) -> str:
    return str(
        session.scalar(select(Organization.default_timezone).where(Organization.id == org_id)) or "UTC"
    )


def export_conversations(
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    location_ids: frozenset[int] | None,
    department_ids: frozenset[int] | None,
    after_id: int,
    limit: int,
) -> list[Any]:
    """A page (by id) of the conversations a report counts, with the columns the export writes."""
    stmt = (
        select(
            Conversation.id,
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
            Conversation.status,
            Conversation.transfer_count,
        )
        .where(
            scope.conversation_filter(),
            Conversation.created_at >= start,
            Conversation.created_at < end,
            Conversation.id > after_id,
        )
        .order_by(Conversation.id)
        .limit(limit)
    )
    if location_ids is not None:
        stmt = stmt.where(Conversation.location_id.in_(sorted(location_ids)))
    if department_ids is not None:
        stmt = stmt.where(Conversation.department_id.in_(sorted(department_ids)))
    return list(session.execute(stmt).all())


def location_keys(session: Session, org_id: int) -> dict[int, str]:
    return {
        int(i): str(k)
        for i, k in session.execute(select(Location.id, Location.key).where(Location.org_id == org_id))
    }


def people_names(session: Session, org_id: int) -> dict[int, str]:
    return {
        int(i): str(n) for i, n in session.execute(select(User.id, User.name).where(User.org_id == org_id))
    }


def refresh_watermark(session: Session) -> datetime | None:
    return session.scalar(select(ReportRefresh.watermark).where(ReportRefresh.id == 1))


def shift_people(
    session: Session, org_id: int, department_ids: frozenset[int] | None
) -> list[tuple[Any, str]]:
    """(shifts, time zone) of the active agents and managers of these departments (None: all)."""
    stmt = select(User.shifts, User.timezone).where(
        User.org_id == org_id, User.active.is_(True), User.role.in_(("agent", "manager"))
    )
    if department_ids is not None:
        stmt = stmt.where(
            User.id.in_(
                select(UserDepartment.user_id).where(UserDepartment.department_id.in_(sorted(department_ids)))
            )
        )
    return [(list(shifts or []), str(tz or "UTC")) for shifts, tz in session.execute(stmt)]
