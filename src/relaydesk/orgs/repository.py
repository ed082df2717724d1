"""Queries on the organisation tree, departments, people and accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from relaydesk.models import (
    Agency,
    BusinessHours,
    ChannelAccount,
    Conversation,
    Department,
    Intent,
    Location,
    Organization,
    RoutingRule,
    SlaPolicy,
    User,
    UserAccount,
    UserDepartment,
)

OPEN_STATUSES = ("new", "open", "reopened", "pending")


@dataclass(frozen=True)
class LocationInfo:
    id: int
    key: str
    path: str
    timezone: str
    ancestor_keys: tuple[str, ...]  # self first, then up to the brand
    weekly: dict[str, list[list[str]]] | None
    holidays: tuple[str, ...]


def get_org(session: Session, org_id: int) -> Organization | None:
    return session.get(Organization, org_id)


def first_org(session: Session) -> Organization | None:
    return session.scalars(select(Organization).order_by(Organization.id).limit(1)).first()


def get_account(session: Session, account_id: int) -> ChannelAccount | None:
    return session.get(ChannelAccount, account_id)


def find_account(session: Session, network: str, external_id: str) -> ChannelAccount | None:
    return session.scalars(
        select(ChannelAccount).where(
            ChannelAccount.network == network,
            ChannelAccount.external_id == external_id,
            ChannelAccount.active.is_(True),
        )
    ).first()


def location_info(session: Session, location_id: int) -> LocationInfo:
    loc = session.get(Location, location_id)
    if loc is None:
        raise LookupError(f"location {location_id} does not exist")
    ids = [int(part) for part in loc.path.strip("/").split("/") if part]
    chain = {row.id: row for row in session.scalars(select(Location).where(Location.id.in_(ids or [loc.id])))}
    ordered = [chain[i] for i in reversed(ids) if i in chain] or [loc]
    # The nearest node with business hours decides: a location inherits its region's or brand's.
    hours: BusinessHours | None = None
    timezone = loc.timezone
    for node in ordered:
        if node.business_hours_id is not None:
            hours = session.get(BusinessHours, node.business_hours_id)
            break
    return LocationInfo(
        id=loc.id,
        key=loc.key,
        path=loc.path,
        timezone=timezone,
        ancestor_keys=tuple(node.key for node in ordered),
        weekly=None if hours is None else dict(hours.weekly),
        holidays=() if hours is None else tuple(hours.holidays),
    )


def location_path(session: Session, location_id: int) -> str:
    loc = session.get(Location, location_id)
    # An unknown location scope matches nothing rather than everything.
    return loc.path if loc else "/nowhere/"


def location_by_key(session: Session, org_id: int, key: str) -> Location | None:
    return session.scalars(select(Location).where(Location.org_id == org_id, Location.key == key)).first()


def departments(session: Session, org_id: int) -> list[Department]:
    return list(
        session.scalars(select(Department).where(Department.org_id == org_id).order_by(Department.id))
    )


def department_by_key(session: Session, org_id: int, key: str) -> Department | None:
    return session.scalars(
        select(Department).where(Department.org_id == org_id, Department.key == key)
    ).first()


def department_keys(session: Session, department_ids: list[int]) -> list[str]:
    """The keys of these departments, in no particular order."""
    if not department_ids:
        return []
    return list(session.scalars(select(Department.key).where(Department.id.in_(department_ids))))


def default_department(session: Session, org_id: int) -> Department | None:
    rows = departments(session, org_id)
    for dept in rows:
        if dept.is_default:
            return dept
    return rows[0] if rows else None


def user_department_ids(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(select(UserDepartment.department_id).where(UserDepartment.user_id == user_id)))


def department_members(session: Session, department_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(UserDepartment, UserDepartment.user_id == User.id)
            .where(UserDepartment.department_id == department_id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def open_counts(session: Session, user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    rows = session.execute(
        select(Conversation.assignee_id, func.count())
        .where(Conversation.assignee_id.in_(user_ids), Conversation.status.in_(OPEN_STATUSES))
        .group_by(Conversation.assignee_id)
    )
    return {int(uid): int(n) for uid, n in rows if uid is not None}


def time_zones_of(session: Session, user: User) -> tuple[str | None, str | None, str | None]:
    """The zone names that may decide how `user` reads times: their own, their location's, the org's."""
    location_zone = (
        session.scalar(select(Location.timezone).where(Location.id == user.location_id))
        if user.location_id is not None
        else None
    )
    org_zone = session.scalar(select(Organization.default_timezone).where(Organization.id == user.org_id))
    return user.timezone, location_zone, org_zone


# -- the configuration snapshot (orgs/snapshot.py): one statement per table, columns only -----------


def config_versions(session: Session, org_ids: list[int]) -> dict[int, str | None]:
    rows = session.execute(
        select(Organization.id, Organization.config_version).where(Organization.id.in_(org_ids))
    )
    return {int(org_id): version for org_id, version in rows}


def org_settings_row(session: Session, org_id: int) -> Row[Any] | None:
    return session.execute(
        select(Organization.reopen_window_hours, Organization.stage_departments).where(
            Organization.id == org_id
        )
    ).first()


def department_rows(session: Session, org_id: int) -> Sequence[Row[int, str, str, bool, str, int | None]]:
    return session.execute(
        select(
            Department.id,
            Department.key,
            Department.name,
            Department.is_default,
            Department.assignment,
            Department.agency_id,
        )
        .where(Department.org_id == org_id)
        .order_by(Department.id)
    ).all()


def agency_rows(session: Session, org_id: int) -> Sequence[Row[Any]]:
    return session.execute(
        select(Agency.id, Agency.key, Agency.name, Agency.contract).where(Agency.org_id == org_id)
    ).all()


def business_hours_rows(session: Session, org_id: int) -> Sequence[Row[Any]]:
    return session.execute(
        select(BusinessHours.id, BusinessHours.key, BusinessHours.weekly, BusinessHours.holidays).where(
            BusinessHours.org_id == org_id
        )
    ).all()


def location_rows(session: Session, org_id: int) -> Sequence[Row[int, str, str, str, int | None]]:
    return session.execute(
        select(Location.id, Location.key, Location.path, Location.timezone, Location.business_hours_id).where(
            Location.org_id == org_id
        )
    ).all()


def org_users(session: Session, org_id: int) -> list[User]:
    """Every user of the organisation, inactive ones included, by id."""
    return list(session.scalars(select(User).where(User.org_id == org_id).order_by(User.id)))


def memberships(session: Session, org_id: int) -> Sequence[Row[int, int]]:
    """(department_id, user_id) pairs of the organisation, by user."""
    return session.execute(
        select(UserDepartment.department_id, UserDepartment.user_id)
        .join(Department, Department.id == UserDepartment.department_id)
        .where(Department.org_id == org_id)
        .order_by(UserDepartment.user_id)
    ).all()


def account_limits(session: Session, org_id: int) -> dict[int, frozenset[int]]:
    """user id -> the channel accounts that person is limited to (only people who are limited)."""
    limits: dict[int, set[int]] = {}
    for user_id, account_id in session.execute(
        select(UserAccount.user_id, UserAccount.account_id)
        .join(User, User.id == UserAccount.user_id)
        .where(User.org_id == org_id)
    ):
        limits.setdefault(int(user_id), set()).add(int(account_id))
    return {user_id: frozenset(ids) for user_id, ids in limits.items()}


def sla_policies(session: Session, org_id: int) -> list[SlaPolicy]:
    return list(session.scalars(select(SlaPolicy).where(SlaPolicy.org_id == org_id).order_by(SlaPolicy.id)))


def enabled_rules(session: Session, org_id: int) -> list[RoutingRule]:
    return list(
        session.scalars(
            select(RoutingRule)
            .where(RoutingRule.org_id == org_id, RoutingRule.enabled.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )


# -- the configuration objects edited one by one (orgs/endpoints.py) --------------------------------


def active_users(session: Session, org_id: int) -> list[User]:
    return list(
        session.scalars(select(User).where(User.org_id == org_id, User.active.is_(True)).order_by(User.id))
    )


def department_keys_by_user(session: Session, org_id: int) -> dict[int, list[str]]:
    rows = session.execute(
        select(UserDepartment.user_id, Department.key)
        .join(Department, Department.id == UserDepartment.department_id)
        .where(Department.org_id == org_id)
    )
    by_user: dict[int, list[str]] = {}
    for user_id, key in rows:
        by_user.setdefault(int(user_id), []).append(str(key))
    return by_user


def agency_keys(session: Session, org_id: int) -> dict[int, str]:
    return {a.id: a.key for a in session.scalars(select(Agency).where(Agency.org_id == org_id))}


def intents(session: Session, org_id: int) -> list[Intent]:
    return list(session.scalars(select(Intent).where(Intent.org_id == org_id).order_by(Intent.id)))


def intent_by_name(session: Session, org_id: int, name: str) -> Intent | None:
    return session.scalars(select(Intent).where(Intent.org_id == org_id, Intent.name == name)).first()


def department_key_exists(session: Session, org_id: int, key: str) -> bool:
    return bool(
        session.scalar(
            select(func.count(Department.id)).where(Department.org_id == org_id, Department.key == key)
        )
    )


# -- the operator's command line: every organisation ----------------------------------------------


def org_keys(session: Session) -> list[str]:
    return list(session.scalars(select(Organization.key).order_by(Organization.id)))


def org_keys_by_id(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Organization.id, Organization.key)).tuples().all())


def org_id_by_key(session: Session, key: str) -> int | None:
    found = session.scalar(select(Organization.id).where(Organization.key == key))
    return None if found is None else int(found)


def orgs_keyed(session: Session, key: str | None, limit: int) -> list[Organization]:
    query = select(Organization)
    if key:
        query = query.where(Organization.key == key)
    return list(session.scalars(query.limit(limit)))


def account_ids_by_key(session: Session, *, active_only: bool) -> dict[str, int]:
    query = select(ChannelAccount)
    if active_only:
        query = query.where(ChannelAccount.active)
    return {a.key: a.id for a in session.scalars(query)}


def intents_named(session: Session, name: str) -> list[Intent]:
    return list(session.scalars(select(Intent).where(Intent.name == name)))


def set_online(session: Session, user_id: int, online: bool) -> bool:
    """Whether there was an active user to mark."""
    result = session.execute(
        update(User).where(User.id == user_id, User.active.is_(True)).values(online=online)
    )
    return bool(getattr(result, "rowcount", 0))
