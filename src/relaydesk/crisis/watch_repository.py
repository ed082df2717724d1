"""The crisis watch's reads and writes: new messages, per-minute counts, series, alerts, recipients."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from relaydesk.models import (
    Contact,
    Conversation,
    CrisisAlert,
    CrisisAlertEvent,
    CrisisPlaybook,
    CrisisSeries,
    CrisisWatermark,
    Department,
    Location,
    Message,
    Organization,
    User,
    UserDepartment,
    crisis_counts,
)

ALERT_ROLES = ("owner", "admin")


def organizations(session: Session) -> list[tuple[int, str]]:
    return [
        (row.id, row.default_timezone or "UTC")
        for row in session.execute(select(Organization.id, Organization.default_timezone))
    ]


def places(session: Session, org_id: int) -> dict[int, tuple[str, str, str]]:
    """location id -> (path, time zone, name)."""
    rows = session.execute(
        select(Location.id, Location.path, Location.timezone, Location.name).where(Location.org_id == org_id)
    )
    return {row.id: (row.path or "/", row.timezone or "UTC", row.name) for row in rows}


def watermark(session: Session, org_id: int) -> CrisisWatermark:
    """The organisation's row, locked so two processes never count the same messages twice."""
    row = session.scalar(select(CrisisWatermark).where(CrisisWatermark.org_id == org_id).with_for_update())
    if row is None:
        # Start at the newest message: the watch looks forward, it does not replay history.
        newest = session.scalar(select(func.max(Message.id)).where(Message.org_id == org_id)) or 0
        row = CrisisWatermark(org_id=org_id, last_message_id=int(newest))
        session.add(row)
        session.flush()
    return row


def new_messages(session: Session, org_id: int, after_id: int, limit: int) -> Sequence[Any]:
    """Inbound messages after `after_id`, oldest first, with their conversation's location."""
    return session.execute(
        select(
            Message.id,
            Message.created_at,
            Message.kind,
            Message.triage,
            Message.text,
            Message.processed_at,
            Conversation.location_id,
            Contact.attributes.label("author"),
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(Contact, Contact.id == Message.contact_id)
        .where(Message.org_id == org_id, Message.id > after_id, Message.direction == "inbound")
        .order_by(Message.id)
        .limit(limit)
    ).all()


def add_counts(session: Session, rows: Iterable[tuple[int, int, str, datetime, int]]) -> None:
    """Add (org, place, series, minute, count) to the stored counts."""
    values = [{"org_id": o, "place_id": p, "series": s, "minute": m, "count": c} for o, p, s, m, c in rows]
    if not values:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    stmt = upsert(crisis_counts)
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_id", "place_id", "series", "minute"],
        set_={"count": crisis_counts.c.count + stmt.excluded.count},
    )
    session.execute(stmt, values)


def counts_between(session: Session, org_id: int, start: datetime, end: datetime) -> Sequence[Any]:
    """(place_id, series, minute, count) of [start, end)."""
    c = crisis_counts.c
    return session.execute(
        select(c.place_id, c.series, c.minute, c.count).where(
            c.org_id == org_id, c.minute >= start, c.minute < end
        )
    ).all()


def forget_counts(session: Session, before: datetime) -> None:
    session.execute(delete(crisis_counts).where(crisis_counts.c.minute < before))


def series(session: Session, org_id: int) -> dict[tuple[int, str], CrisisSeries]:
    rows = session.scalars(select(CrisisSeries).where(CrisisSeries.org_id == org_id))
    return {(row.place_id, row.series): row for row in rows}


def open_alerts(session: Session, org_id: int, kind: str, since: datetime) -> list[CrisisAlert]:
    """Alerts of this kind not resolved and touched since `since`, newest first."""
    return list(
        session.scalars(
            select(CrisisAlert)
            .where(
                CrisisAlert.org_id == org_id,
                CrisisAlert.kind == kind,
                CrisisAlert.status != "resolved",
                CrisisAlert.updated_at >= since,
            )
            .order_by(CrisisAlert.updated_at.desc())
        )
    )


def alerts_opened_since(session: Session, org_id: int, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(CrisisAlert)
            .where(CrisisAlert.org_id == org_id, CrisisAlert.opened_at >= since)
        )
        or 0
    )


def add_event(
    session: Session, alert: CrisisAlert, kind: str, detail: str, at: datetime, actor_id: int | None = None
) -> None:
    session.add(
        CrisisAlertEvent(alert_id=alert.id, kind=kind, detail=detail[:2000], at=at, actor_id=actor_id)
    )


def recent_message_ids(
    session: Session,
    org_id: int,
    location_ids: Sequence[int] | None,
    since: datetime,
    negative_only: bool,
    limit: int,
) -> list[int]:
    """The newest inbound messages at these locations (None: anywhere) since `since`."""
    stmt = (
        select(Message.id, Message.triage)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.org_id == org_id, Message.direction == "inbound", Message.created_at >= since)
        .order_by(Message.id.desc())
        .limit(limit * 4 if negative_only else limit)
    )
    if location_ids is not None:
        stmt = stmt.where(Conversation.location_id.in_(sorted(location_ids)))
    out = []
    for row in session.execute(stmt):
        if negative_only and (row.triage or {}).get("sentiment") != "negative":
            continue
        out.append(int(row.id))
    return out[:limit]


def recipients(session: Session, org_id: int, place_path: str | None) -> list[int]:
    """Who must know: owners and admins, the spokesperson departments' people, and the managers
    whose places include the alert's place (or sit under it)."""
    spokes = (
        select(UserDepartment.user_id)
        .join(Department, Department.id == UserDepartment.department_id)
        .where(Department.org_id == org_id, Department.spokesperson.is_(True))
    )
    managers = User.role == "manager"
    if place_path is not None:
        ancestor_ids = [int(p) for p in place_path.split("/") if p.isdigit()]
        within = select(Location.id).where(Location.org_id == org_id, Location.path.startswith(place_path))
        managers = managers & or_(
            User.location_id.is_(None), User.location_id.in_(ancestor_ids), User.location_id.in_(within)
        )
    stmt = select(User.id).where(
        User.org_id == org_id,
        User.active.is_(True),
        or_(User.role.in_(ALERT_ROLES), User.id.in_(spokes), managers),
    )
    return sorted(int(i) for i in session.scalars(stmt))


def playbooks(session: Session, org_id: int) -> Sequence[CrisisPlaybook]:
    return session.scalars(select(CrisisPlaybook).where(CrisisPlaybook.org_id == org_id)).all()


def department_members(session: Session, org_id: int, keys: Sequence[str]) -> list[int]:
    """The active people of these departments (legal, HR...)."""
    if not keys:
        return []
    stmt = (
        select(UserDepartment.user_id)
        .join(Department, Department.id == UserDepartment.department_id)
        .join(User, User.id == UserDepartment.user_id)
        .where(Department.org_id == org_id, Department.key.in_(list(keys)), User.active.is_(True))
    )
    return sorted({int(i) for i in session.scalars(stmt)})


def agency_people(session: Session, org_id: int, place_path: str | None) -> list[int]:
    """The active agency people who work at the alert's place, under it, above it or everywhere:
    they are told to hold."""
    stmt = select(User.id).where(User.org_id == org_id, User.agency_id.is_not(None), User.active.is_(True))
    if place_path is not None:
        ancestor_ids = [int(p) for p in place_path.split("/") if p.isdigit()]
        within = select(Location.id).where(Location.org_id == org_id, Location.path.startswith(place_path))
        stmt = stmt.where(
            or_(User.location_id.is_(None), User.location_id.in_(ancestor_ids), User.location_id.in_(within))
        )
    return sorted(int(i) for i in session.scalars(stmt))
