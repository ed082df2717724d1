"""Reads and writes of the alerts pages: a person's alerts (limited to their places in the query),
one alert's timeline and messages, and the open alerts over a conversation's location."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, literal, or_, select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.models import Conversation, CrisisAlert, CrisisAlertEvent, Location, Message, User


def _visible(scope: Scope) -> ColumnElement[bool]:
    """The caller's organisation; for a person limited to part of the tree, alerts at their places,
    under them, above them (a brand's storm concerns its shops) or for the whole organisation."""
    condition = CrisisAlert.org_id == scope.org_id
    if scope.location_path is None:
        return condition
    path = scope.location_path
    related = select(Location.id).where(
        Location.org_id == scope.org_id,
        or_(Location.path.startswith(path), literal(path).like(Location.path + "%")),
    )
    return condition & or_(CrisisAlert.place_id.is_(None), CrisisAlert.place_id.in_(related))


def alerts(
    session: Session, scope: Scope, statuses: Sequence[str], offset: int, limit: int
) -> Sequence[CrisisAlert]:
    stmt = select(CrisisAlert).where(_visible(scope))
    if statuses:
        stmt = stmt.where(CrisisAlert.status.in_(list(statuses)))
    return session.scalars(
        stmt.order_by(CrisisAlert.updated_at.desc(), CrisisAlert.id.desc()).offset(offset).limit(limit)
    ).all()


def alert(session: Session, scope: Scope, alert_id: int, *, lock: bool = False) -> CrisisAlert | None:
    stmt = select(CrisisAlert).where(_visible(scope), CrisisAlert.id == alert_id)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def events(session: Session, alert_id: int) -> Sequence[CrisisAlertEvent]:
    return session.scalars(
        select(CrisisAlertEvent)
        .where(CrisisAlertEvent.alert_id == alert_id)
        .order_by(CrisisAlertEvent.at, CrisisAlertEvent.id)
    ).all()


def messages(session: Session, scope: Scope, ids: Sequence[int]) -> Sequence[Any]:
    """The alert's messages the caller may read (the conversation scope, in the query)."""
    if not ids:
        return []
    return session.execute(
        select(Message.id, Message.text, Message.created_at, Message.conversation_id, Conversation.language)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id.in_(list(ids)), scope.conversation_filter())
        .order_by(Message.id.desc())
    ).all()


def names(session: Session, org_id: int, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.execute(
        select(User.id, User.name).where(User.org_id == org_id, User.id.in_(sorted(user_ids)))
    )
    return {row.id: row.name for row in rows}


def place_names(session: Session, org_id: int, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Location.id, Location.name).where(Location.org_id == org_id, Location.id.in_(sorted(ids)))
    )
    return {row.id: row.name for row in rows}


def open_over(session: Session, scope: Scope, conversation_id: int) -> Sequence[CrisisAlert]:
    """Open alerts with a holding statement over the conversation's place (or the whole org)."""
    conversation = session.execute(
        select(Conversation.location_id).where(
            Conversation.id == conversation_id, scope.conversation_filter()
        )
    ).first()
    if conversation is None:
        return []
    path = None
    if conversation.location_id is not None:
        path = session.scalar(select(Location.path).where(Location.id == conversation.location_id))
    places: list[int] = [int(p) for p in (path or "").split("/") if p.isdigit()]
    stmt = select(CrisisAlert).where(
        CrisisAlert.org_id == scope.org_id,
        CrisisAlert.status != "resolved",
        or_(CrisisAlert.place_id.is_(None), CrisisAlert.place_id.in_(places)),
    )
    return [a for a in session.scalars(stmt.order_by(CrisisAlert.opened_at.desc())) if a.holding_statements]


def open_at(session: Session, org_id: int, location_id: int | None) -> list[tuple[CrisisAlert, int | None]]:
    """Open (not resolved) alerts over a location, with each alert's brand (None: the organisation)."""
    path = session.scalar(select(Location.path).where(Location.id == location_id)) if location_id else None
    places = [int(p) for p in (path or "").split("/") if p.isdigit()]
    stmt = select(CrisisAlert).where(
        CrisisAlert.org_id == org_id,
        CrisisAlert.status != "resolved",
        or_(CrisisAlert.place_id.is_(None), CrisisAlert.place_id.in_(places)),
    )
    brand = places[0] if places else None
    return [
        (a, brand if a.place_id is not None else None) for a in session.scalars(stmt.order_by(CrisisAlert.id))
    ]


def place_path(session: Session, org_id: int, place_id: int | None) -> str | None:
    if place_id is None:
        return None
    return session.scalar(select(Location.path).where(Location.org_id == org_id, Location.id == place_id))


def opened_between(
    session: Session, scope: Scope, start: datetime, end: datetime, limit: int
) -> Sequence[CrisisAlert]:
    """The alerts raised in [start, end) the caller sees (its places, in the query)."""
    return session.scalars(
        select(CrisisAlert)
        .where(_visible(scope), CrisisAlert.opened_at >= start, CrisisAlert.opened_at < end)
        .order_by(CrisisAlert.opened_at)
        .limit(limit)
    ).all()


def message_places(session: Session, org_id: int, ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """message id -> (conversation id, kind) of these messages."""
    if not ids:
        return {}
    rows = session.execute(
        select(Message.id, Message.conversation_id, Message.kind).where(
            Message.org_id == org_id, Message.id.in_(sorted(set(ids)))
        )
    ).all()
    return {row.id: (row.conversation_id, row.kind) for row in rows}


def replies_since(
    session: Session, org_id: int, conversation_ids: Sequence[int], since: datetime
) -> dict[int, list[datetime]]:
    """When people (not RelayDesk by itself) replied in these conversations since `since`, oldest first."""
    out: dict[int, list[datetime]] = {}
    if not conversation_ids:
        return out
    rows = session.execute(
        select(Message.conversation_id, Message.sent_at)
        .where(
            Message.org_id == org_id,
            Message.conversation_id.in_(sorted(set(conversation_ids))),
            Message.direction == "outbound",
            Message.author_user_id.is_not(None),
            Message.sent_at >= since,
        )
        .order_by(Message.sent_at)
    ).all()
    for row in rows:
        out.setdefault(row.conversation_id, []).append(row.sent_at)
    return out
