"""The organisation tree as the settings pages read and change it: a level at a time, searched,
counted, and many places changed by one statement.

Beside repository.py (what the pipeline and other slices ask of the organisation). A subtree is
always a prefix match on the materialised path (`/3/17/`), which the (org_id, path) index
serves; no function here loads more rows than its `limit`. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, true, update
from sqlalchemy.orm import Session

from relaydesk.models import (
    BusinessHours,
    ChannelAccount,
    Conversation,
    Location,
    Organization,
    SlaPolicy,
    User,
)


@dataclass(frozen=True)
class Target:
    """Which places a change reaches, inside the caller's subtree (`within`, None = the whole org).

    Exactly one of `under` (a node's path: it and everything below), `ids` (chosen places) or
    `search` (every place whose name or key matches) is set.
    """

    org_id: int
    within: str | None
    under: str | None = None
    ids: tuple[int, ...] | None = None
    search: str | None = None


def _within(within: str | None) -> ColumnElement[bool]:
    return Location.path.startswith(within, autoescape=True) if within else true()


def _matching(search: str) -> ColumnElement[bool]:
    needle = search.lower()
    return or_(
        func.lower(Location.name).contains(needle, autoescape=True),
        func.lower(Location.key).contains(needle, autoescape=True),
    )


def _target(target: Target) -> ColumnElement[bool]:
    conditions = [Location.org_id == target.org_id, _within(target.within)]
    if target.under is not None:
        conditions.append(Location.path.startswith(target.under, autoescape=True))
    elif target.ids is not None:
        conditions.append(Location.id.in_(sorted(target.ids)))
    elif target.search is not None:
        conditions.append(_matching(target.search))
    else:
        conditions.append(Location.id.is_(None))  # no target: nothing, never everything
    return and_(*conditions)


# -- reading the tree -------------------------------------------------------------------------------


def node_by_key(session: Session, org_id: int, key: str) -> Location | None:
    return session.scalars(select(Location).where(Location.org_id == org_id, Location.key == key)).first()


def node_by_path(session: Session, org_id: int, path: str) -> Location | None:
    return session.scalars(select(Location).where(Location.org_id == org_id, Location.path == path)).first()


def nodes_by_ids(session: Session, org_id: int, ids: Iterable[int]) -> dict[int, Location]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(Location).where(Location.org_id == org_id, Location.id.in_(wanted)))
    return {row.id: row for row in rows}


def _level(org_id: int, parent_id: int | None) -> ColumnElement[bool]:
    return and_(
        Location.org_id == org_id,
        Location.parent_id.is_(None) if parent_id is None else Location.parent_id == parent_id,
    )


def children(
    session: Session, org_id: int, parent_id: int | None, limit: int, offset: int = 0
) -> list[Location]:
    """One level of the tree by name (the top level when `parent_id` is None)."""
    query = select(Location).where(_level(org_id, parent_id)).order_by(Location.name, Location.id)
    return list(session.scalars(query.offset(offset).limit(limit)))


def count_children(session: Session, org_id: int, parent_id: int | None) -> int:
    return int(session.scalar(select(func.count(Location.id)).where(_level(org_id, parent_id))) or 0)


def ids_by_keys(session: Session, org_id: int, within: str | None, keys: Iterable[str]) -> list[int]:
    wanted = sorted(set(keys))
    if not wanted:
        return []
    query = select(Location.id).where(Location.org_id == org_id, _within(within), Location.key.in_(wanted))
    return list(session.scalars(query))


def child_counts(session: Session, ids: Iterable[int]) -> dict[int, int]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Location.parent_id, func.count(Location.id))
        .where(Location.parent_id.in_(wanted))
        .group_by(Location.parent_id)
    )
    return {int(parent): int(n) for parent, n in rows if parent is not None}


def search(
    session: Session, org_id: int, within: str | None, text: str, limit: int, offset: int
) -> list[Location]:
    where = and_(Location.org_id == org_id, _within(within), _matching(text))
    query = select(Location).where(where).order_by(Location.name, Location.id)
    return list(session.scalars(query.offset(offset).limit(limit)))


def count_search(session: Session, org_id: int, within: str | None, text: str) -> int:
    where = and_(Location.org_id == org_id, _within(within), _matching(text))
    return int(session.scalar(select(func.count(Location.id)).where(where)) or 0)


def uses(session: Session, location_id: int) -> dict[str, int]:
    """What still points at a place: what deleting it would cascade into or widen."""

    def count(column: Any) -> int:
        return int(session.scalar(select(func.count()).where(column == location_id)) or 0)

    return {
        "children": count(Location.parent_id),
        "conversations": count(Conversation.location_id),
        "accounts": count(ChannelAccount.location_id),
        "people": count(User.location_id),
    }


# -- schedules ---------------------------------------------------------------------------------------


def schedules(session: Session, org_id: int, limit: int) -> list[BusinessHours]:
    return list(
        session.scalars(
            select(BusinessHours)
            .where(BusinessHours.org_id == org_id)
            .order_by(BusinessHours.name, BusinessHours.id)
            .limit(limit)
        )
    )


def schedule_by_key(session: Session, org_id: int, key: str) -> BusinessHours | None:
    return session.scalars(
        select(BusinessHours).where(BusinessHours.org_id == org_id, BusinessHours.key == key)
    ).first()


def schedules_by_ids(session: Session, org_id: int, ids: Iterable[int]) -> dict[int, BusinessHours]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(BusinessHours).where(BusinessHours.org_id == org_id, BusinessHours.id.in_(wanted))
    )
    return {row.id: row for row in rows}


def schedule_usage(session: Session, org_id: int, hours_id: int, within: str | None) -> tuple[int, int]:
    """How many places use the schedule, and how many of them lie outside `within`."""
    used = and_(Location.org_id == org_id, Location.business_hours_id == hours_id)
    total = int(session.scalar(select(func.count(Location.id)).where(used)) or 0)
    if within is None:
        return total, 0
    inside = int(session.scalar(select(func.count(Location.id)).where(used, _within(within))) or 0)
    return total, total - inside


def policies_naming(session: Session, org_id: int, key: str) -> list[str]:
    return list(
        session.scalars(
            select(SlaPolicy.name)
            .where(SlaPolicy.org_id == org_id, SlaPolicy.business_hours_key == key)
            .order_by(SlaPolicy.name)
        )
    )


# -- many places at once -------------------------------------------------------------------------------


def count_target(session: Session, target: Target) -> int:
    return int(session.scalar(select(func.count(Location.id)).where(_target(target))) or 0)


def _differs(values: dict[str, Any]) -> ColumnElement[bool]:
    """Rows whose stored values differ from `values` (NULL counts as different from a value)."""
    parts: list[ColumnElement[bool]] = []
    for name, value in values.items():
        column = getattr(Location, name)
        parts.append(column.is_not(None) if value is None else or_(column.is_(None), column != value))
    return or_(*parts) if parts else Location.id.is_(None)


def changing(session: Session, target: Target, values: dict[str, Any]) -> dict[tuple[Any, ...], int]:
    """How many target places each present combination of the changed columns has, among those
    that would change: (old value, ...) -> count, in the order of `values`."""
    columns = [getattr(Location, name) for name in values]
    rows = session.execute(
        select(*columns, func.count(Location.id)).where(_target(target), _differs(values)).group_by(*columns)
    )
    return {tuple(row[:-1]): int(row[-1]) for row in rows}


def changing_keys(session: Session, target: Target, values: dict[str, Any], limit: int) -> list[str]:
    return list(
        session.scalars(
            select(Location.key)
            .where(_target(target), _differs(values))
            .order_by(Location.path, Location.key)
            .limit(limit)
        )
    )


def update_target(session: Session, target: Target, values: dict[str, Any]) -> int:
    """One UPDATE for every target place whose values differ; how many it changed.

    Around the unit of work on purpose (a chain's 1,000 places would be 1,000 loads and
    flushes): the caller records the change in the audit log and stamps the configuration.
    """
    table: Table = Location.__table__  # type: ignore[assignment]
    result = session.execute(update(table).where(_target(target), _differs(values)).values(**values))
    session.expire_all()  # rows this session holds may be among the changed ones
    return int(getattr(result, "rowcount", 0) or 0)


def stamp_configuration(session: Session, org_id: int) -> None:
    """What models/stamp.py does after a flush, for a change made around the unit of work."""
    table: Table = Organization.__table__  # type: ignore[assignment]
    session.execute(update(table).where(table.c.id == org_id).values(config_version=uuid.uuid4().hex))
