"""Queries on the organisation tree, departments, people and accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.models import (
    BusinessHours,
    ChannelAccount,
    Conversation,
    Department,
    Location,
    Organization,
    User,
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
