"""Listening queries, caught posts and the accounts a post may become a conversation on, in SQL.

Reads take the caller's scope and filter in the query itself (organisation, location subtree).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import Network
from relaydesk.core.timeutil import as_utc
from relaydesk.models import ChannelAccount, ListeningItem, ListeningQuery, Location
from relaydesk.models.upsert import insert_ignore


def query_filter(scope: Scope) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [ListeningQuery.org_id == scope.org_id]
    if scope.location_path:
        # People limited to a subtree see the listening of their part of the org only.
        subtree = select(Location.id).where(
            Location.org_id == scope.org_id,
            Location.path.startswith(scope.location_path, autoescape=True),
        )
        conditions.append(ListeningQuery.brand_location_id.in_(subtree))
    return and_(true(), *conditions)


def visible_query(session: Session, scope: Scope, name: str) -> ListeningQuery | None:
    return session.scalars(
        select(ListeningQuery).where(query_filter(scope), ListeningQuery.name == name)
    ).first()


def visible_item(
    session: Session, scope: Scope, item_id: int, lock: bool
) -> tuple[ListeningItem, ListeningQuery] | None:
    stmt = (
        select(ListeningItem, ListeningQuery)
        .join(ListeningQuery, ListeningQuery.id == ListeningItem.query_id)
        .where(ListeningItem.id == item_id, ListeningItem.org_id == scope.org_id, query_filter(scope))
    )
    if lock:
        stmt = stmt.with_for_update(of=ListeningItem)
    row = session.execute(stmt).first()
    return None if row is None else (row[0], row[1])


def queries_of(session: Session, scope: Scope) -> Sequence[ListeningQuery]:
    return session.scalars(
        select(ListeningQuery).where(query_filter(scope)).order_by(ListeningQuery.name)
    ).all()


def location_by_key(session: Session, org_id: int, key: str) -> Location | None:
    return session.scalars(select(Location).where(Location.org_id == org_id, Location.key == key)).first()


def location_path(session: Session, location_id: int) -> str:
    """The location's materialised path; "" when it is gone."""
    location = session.get(Location, location_id)
    return location.path if location else ""


def query_by_name_for_update(session: Session, org_id: int, name: str) -> ListeningQuery | None:
    return session.scalars(
        select(ListeningQuery)
        .where(ListeningQuery.org_id == org_id, ListeningQuery.name == name)
        .with_for_update()
    ).first()


def insert_item(session: Session, values: dict[str, Any]) -> int | None:
    """The new item's id, or None when the query already holds this post."""
    return insert_ignore(session, ListeningItem.__table__, values, ["query_id", "network", "external_id"])


def active_queries(session: Session) -> Sequence[ListeningQuery]:
    return session.scalars(
        select(ListeningQuery).where(ListeningQuery.active.is_(True)).order_by(ListeningQuery.id)
    ).all()


def active_x_accounts(session: Session, org_id: int) -> Sequence[ChannelAccount]:
    return session.scalars(
        select(ChannelAccount)
        .where(
            ChannelAccount.org_id == org_id,
            ChannelAccount.network == Network.X.value,
            ChannelAccount.active.is_(True),
        )
        .order_by(ChannelAccount.id)
    ).all()


def item_rows(
    session: Session,
    scope: Scope,
    *,
    status: str | None,
    query: str | None,
    language: str | None,
    before: int | None,
    limit: int,
) -> Sequence[Row[ListeningItem, str]]:
    """Up to `limit` items, newest first; `language` already normalised."""
    stmt: Select[ListeningItem, str] = (
        select(ListeningItem, ListeningQuery.name)
        .join(ListeningQuery, ListeningQuery.id == ListeningItem.query_id)
        .where(ListeningItem.org_id == scope.org_id, query_filter(scope))
    )
    if status is not None:
        stmt = stmt.where(ListeningItem.status == status)
    if query is not None:
        stmt = stmt.where(ListeningQuery.name == query)
    if language is not None:
        stmt = stmt.where(ListeningItem.language == language)
    if before is not None:
        stmt = stmt.where(ListeningItem.id < before)
    stmt = stmt.order_by(ListeningItem.id.desc()).limit(limit)
    return session.execute(stmt).all()


def _usable_account_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        ChannelAccount.org_id == scope.org_id,
        ChannelAccount.active.is_(True),
    ]
    if scope.location_path:
        conditions.append(
            ChannelAccount.location_id.in_(
                select(Location.id).where(
                    Location.org_id == scope.org_id,
                    Location.path.startswith(scope.location_path, autoescape=True),
                )
            )
        )
    return conditions


def usable_account(session: Session, scope: Scope, account_id: int) -> ChannelAccount | None:
    """The active account `account_id` when the caller may use it."""
    return session.scalars(
        select(ChannelAccount).where(ChannelAccount.id == account_id, *_usable_account_conditions(scope))
    ).first()


def usable_accounts(session: Session, scope: Scope, networks: Sequence[str]) -> list[ChannelAccount]:
    return list(
        session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.network.in_(networks), *_usable_account_conditions(scope))
            .order_by(ChannelAccount.id)
        )
    )


def query_page(session: Session, scope: Scope, search: str, limit: int) -> Sequence[ListeningQuery]:
    """Up to `limit` of the caller's queries by name, those whose name holds `search`."""
    stmt = select(ListeningQuery).where(query_filter(scope))
    if search:
        stmt = stmt.where(ListeningQuery.name.contains(search, autoescape=True))
    return session.scalars(stmt.order_by(ListeningQuery.name).limit(limit)).all()


def item_stats(session: Session, query_ids: Sequence[int]) -> dict[int, tuple[int, datetime | None]]:
    """For each query: how many posts it has kept, and when the last one was found."""
    if not query_ids:
        return {}
    rows = session.execute(
        select(ListeningItem.query_id, func.count(), func.max(ListeningItem.created_at))
        .where(ListeningItem.query_id.in_(query_ids))
        .group_by(ListeningItem.query_id)
    ).all()
    return {query_id: (count, as_utc(last)) for query_id, count, last in rows}


def locations_in_scope(session: Session, scope: Scope, limit: int) -> list[tuple[str, str]]:
    """(key, name) of the locations a query of the caller's may belong to, by path."""
    stmt = select(Location.key, Location.name).where(Location.org_id == scope.org_id)
    if scope.location_path:
        stmt = stmt.where(Location.path.startswith(scope.location_path, autoescape=True))
    return [(key, name) for key, name in session.execute(stmt.order_by(Location.path).limit(limit))]


def location_of(session: Session, location_id: int | None) -> Location | None:
    return session.get(Location, location_id) if location_id is not None else None
