"""Queries of the routing slice: the saved rules and the names a rule may refer to."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session, class_mapper

from relaydesk.models import Agency, ChannelAccount, Department, RoutingRule, User


def rules(session: Session, org_id: int) -> list[RoutingRule]:
    return list(
        session.scalars(
            select(RoutingRule).where(RoutingRule.org_id == org_id).order_by(RoutingRule.position)
        )
    )


def rule_by_name(session: Session, org_id: int, name: str) -> RoutingRule | None:
    return session.scalars(
        select(RoutingRule).where(RoutingRule.org_id == org_id, RoutingRule.name == name)
    ).first()


def last_rule_position(session: Session, org_id: int) -> int | None:
    return session.scalar(select(func.max(RoutingRule.position)).where(RoutingRule.org_id == org_id))


def department_keys(session: Session, org_id: int) -> set[str]:
    return set(session.scalars(select(Department.key).where(Department.org_id == org_id)))


def user_handles(session: Session, org_id: int) -> set[str]:
    return set(session.scalars(select(User.handle).where(User.org_id == org_id)))


def agency_keys(session: Session, org_id: int) -> set[str]:
    return set(session.scalars(select(Agency.key).where(Agency.org_id == org_id)))


def account_by_key(session: Session, org_id: int, key: str) -> ChannelAccount | None:
    return session.scalars(
        select(ChannelAccount).where(ChannelAccount.org_id == org_id, ChannelAccount.key == key)
    ).first()


def enabled_rules(session: Session, org_id: int) -> list[RoutingRule]:
    return list(
        session.scalars(
            select(RoutingRule)
            .where(RoutingRule.org_id == org_id, RoutingRule.enabled.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def live_agents(session: Session, user_ids: list[int]) -> dict[int, tuple[bool, Any]]:
    """Presence and last assignment of the still-active agents, locked on PostgreSQL (see below)."""
    if not user_ids:
        return {}
    query = (
        select(User.id, User.online, User.last_assigned_at)
        .where(User.id.in_(sorted(set(user_ids))), User.active.is_(True))
        .order_by(User.id)
    )
    if is_postgres(session):
        query = query.with_for_update(key_share=True)
    return {int(uid): (bool(online), last) for uid, online, last in session.execute(query)}


def stamp_assigned(session: Session, user_id: int, now: Any) -> None:
    """Round-robin's memory; one UPDATE without loading the person."""
    loaded = session.identity_map.get(class_mapper(User).identity_key_from_primary_key((user_id,)))
    if loaded is not None:
        loaded.last_assigned_at = now
        return
    # On the connection: an ORM execute would flush the conversation early (one more UPDATE).
    table = cast(Table, User.__table__)
    session.connection().execute(update(table).where(table.c.id == user_id).values(last_assigned_at=now))


def lock_agents(session: Session, user_ids: list[int]) -> None:
    """Hold the agents' rows until commit, so capacity is counted by one assigner at a time.

    Without it two PostgreSQL transactions both read "1 of 2 open" and both assign, and the agent
    ends up over capacity. Rows are locked in id order (no deadlocks between assigners); after the
    wait, READ COMMITTED lets the following count see the other transaction's assignments.
    NO KEY UPDATE leaves inserts that merely reference a user (notes, notifications) unblocked.
    SQLite needs nothing: its writers are already serialised by BEGIN IMMEDIATE.
    """
    if not user_ids or not is_postgres(session):
        return
    session.execute(
        select(User.id)
        .where(User.id.in_(sorted(set(user_ids))))
        .order_by(User.id)
        .with_for_update(key_share=True)
    ).all()
