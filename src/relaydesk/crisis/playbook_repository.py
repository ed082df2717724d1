"""Crisis playbooks and what they may name (brands, departments, notification destinations)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.models import CrisisPlaybook, Department, Location, NotificationDestination, User


def playbook(session: Session, org_id: int, place_id: int | None) -> CrisisPlaybook | None:
    at = CrisisPlaybook.place_id.is_(None) if place_id is None else CrisisPlaybook.place_id == place_id
    return session.scalars(select(CrisisPlaybook).where(CrisisPlaybook.org_id == org_id, at)).first()


def brands(session: Session, org_id: int) -> Sequence[Location]:
    return session.scalars(
        select(Location).where(Location.org_id == org_id, Location.kind == "brand").order_by(Location.name)
    ).all()


def brand_by_key(session: Session, org_id: int, key: str) -> Location | None:
    return session.scalar(
        select(Location).where(Location.org_id == org_id, Location.key == key, Location.kind == "brand")
    )


def department_choices(session: Session, org_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Department.key, Department.name).where(Department.org_id == org_id).order_by(Department.name)
    )
    return [(row.key, row.name) for row in rows]


def destination_names(session: Session, org_id: int) -> list[str]:
    return list(
        session.scalars(
            select(NotificationDestination.name)
            .where(NotificationDestination.org_id == org_id)
            .order_by(NotificationDestination.name)
        )
    )


def active_handles(session: Session, org_id: int, handles: Sequence[str]) -> set[str]:
    if not handles:
        return set()
    rows = session.scalars(
        select(User.handle).where(
            User.org_id == org_id, User.handle.in_(list(handles)), User.active.is_(True)
        )
    )
    return {str(h) for h in rows}
