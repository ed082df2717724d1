"""Queries of the routing slice: the saved rules, the names a rule may refer to, the agents'
live state and the department queues."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, select, update
from sqlalchemy.orm import Session, class_mapper

from relaydesk.models import (
    Agency,
    ChannelAccount,
    Conversation,
    Department,
    Intent,
    Location,
    RoutingRule,
    User,
    UserDepartment,
)

# A conversation waits in its department's queue while open and nobody has it.
WAITING_STATUSES = ("new", "open", "reopened")


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


def _waiting(org_id: int | None) -> list[ColumnElement[bool]]:
    criteria: list[ColumnElement[bool]] = [
        Conversation.assignee_id.is_(None),
        Conversation.department_id.is_not(None),
        Conversation.status.in_(WAITING_STATUSES),
    ]
    if org_id is not None:
        criteria.append(Conversation.org_id == org_id)
    return criteria


def waiting_departments(session: Session, org_id: int | None) -> list[tuple[int, int]]:
    """(organisation, department) of every queue with a conversation waiting in it; no lock."""
    stmt = (
        select(Conversation.org_id, Conversation.department_id)
        .where(*_waiting(org_id))
        .distinct()
        .order_by(Conversation.org_id, Conversation.department_id)
    )
    return [(int(org), int(dept)) for org, dept in session.execute(stmt) if dept is not None]


def waiting_conversations(
    session: Session, org_id: int | None, department_ids: Collection[int], limit: int
) -> list[Conversation]:
    """The oldest conversations waiting in these departments' queues, locked on PostgreSQL."""
    stmt = (
        select(Conversation)
        .where(*_waiting(org_id), Conversation.department_id.in_(sorted(department_ids)))
        .order_by(Conversation.created_at, Conversation.id)
        .limit(limit)
    )
    if is_postgres(session):
        # Concurrent drains (workers, a resolve and the timer) each take different waiting
        # conversations instead of handing the same one to two agents.
        stmt = stmt.with_for_update(skip_locked=True, key_share=True)
    return list(session.scalars(stmt))


def department_member_ids(session: Session, department_ids: Collection[int]) -> list[int]:
    return list(
        session.scalars(
            select(UserDepartment.user_id).where(UserDepartment.department_id.in_(department_ids))
        )
    )


def last_assignee_of_contact(session: Session, conversation: Conversation) -> int | None:
    """Who last had another conversation of this contact (the sticky agent), if anyone."""
    assignee: int | None = session.execute(
        select(Conversation.assignee_id)
        .where(
            Conversation.contact_id == conversation.contact_id,
            Conversation.id != conversation.id,
            Conversation.assignee_id.is_not(None),
        )
        .order_by(Conversation.last_message_at.desc())
        .limit(1)
    ).scalar()
    return assignee


def department(session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id)


def department_keys_of(session: Session, org_id: int, department_ids: Collection[int]) -> frozenset[str]:
    if not department_ids:
        return frozenset()
    query = select(Department.key).where(
        Department.org_id == org_id, Department.id.in_(sorted(department_ids))
    )
    return frozenset(session.scalars(query))


def location_keys_of(session: Session, org_id: int, location_ids: Collection[int]) -> frozenset[str]:
    if not location_ids:
        return frozenset()
    query = select(Location.key).where(Location.org_id == org_id, Location.id.in_(sorted(location_ids)))
    return frozenset(session.scalars(query))


def rule_choices(session: Session, org_id: int) -> dict[str, list[tuple[str, str]]]:
    """(key, name) of what a rule may name: departments, accounts, locations, people, agencies, intents."""

    def pairs(query: Any) -> list[tuple[str, str]]:
        return [(str(k), str(n or k)) for k, n in session.execute(query)]

    return {
        "departments": pairs(
            select(Department.key, Department.name)
            .where(Department.org_id == org_id)
            .order_by(Department.name)
        ),
        "accounts": pairs(
            select(ChannelAccount.key, ChannelAccount.name)
            .where(ChannelAccount.org_id == org_id, ChannelAccount.active.is_(True))
            .order_by(ChannelAccount.key)
        ),
        "locations": pairs(
            select(Location.key, Location.name).where(Location.org_id == org_id).order_by(Location.path)
        ),
        "people": pairs(
            select(User.handle, User.name)
            .where(User.org_id == org_id, User.active.is_(True))
            .order_by(User.name)
        ),
        "agencies": pairs(
            select(Agency.key, Agency.name).where(Agency.org_id == org_id).order_by(Agency.name)
        ),
        "intents": pairs(
            select(Intent.name, Intent.name).where(Intent.org_id == org_id).order_by(Intent.name)
        ),
    }


def open_conversations_in(
    session: Session, org_id: int, department_ids: Collection[int], place_path: str | None, limit: int = 5000
) -> list[Conversation]:
    """Conversations not resolved, in these departments, at the place with this path or under it
    (None: anywhere in the organisation); locked, as they are about to move."""
    stmt = select(Conversation).where(
        Conversation.org_id == org_id,
        Conversation.department_id.in_(sorted(department_ids)),
        Conversation.status != "resolved",
    )
    if place_path is not None:
        under = select(Location.id).where(Location.org_id == org_id, Location.path.startswith(place_path))
        stmt = stmt.where(Conversation.location_id.in_(under))
    return list(session.scalars(stmt.order_by(Conversation.id).limit(limit).with_for_update()).all())
