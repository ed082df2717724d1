"""What other slices may ask of the organisation: departments, rosters, scopes, locations, presence.

Other slices read the organisation through this service rather than through `orgs.repository`,
so the queries stay in one place and can change without touching their callers. Every method
takes the caller's `Session`: these reads must see (and join) the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.models import Department, Location, Organization, User
from relaydesk.orgs import repository
from relaydesk.orgs.repository import OPEN_STATUSES, LocationInfo

__all__ = ["OPEN_STATUSES", "LocationInfo", "OrgService", "org_service"]


class OrgService:
    """Stateless; one instance (`org_service`) is shared and registered on the container."""

    open_statuses: tuple[str, ...] = OPEN_STATUSES

    def get_org(self, session: Session, org_id: int) -> Organization | None:
        return repository.get_org(session, org_id)

    def first_org(self, session: Session) -> Organization | None:
        return repository.first_org(session)

    def departments(self, session: Session, org_id: int) -> list[Department]:
        return repository.departments(session, org_id)

    def department_by_key(self, session: Session, org_id: int, key: str) -> Department | None:
        return repository.department_by_key(session, org_id, key)

    def default_department(self, session: Session, org_id: int) -> Department | None:
        return repository.default_department(session, org_id)

    def department_members(self, session: Session, department_id: int) -> list[User]:
        """The department's active agents, in a stable order."""
        return repository.department_members(session, department_id)

    def open_counts(self, session: Session, user_ids: list[int]) -> dict[int, int]:
        """How many open conversations each agent holds (absent = none)."""
        return repository.open_counts(session, user_ids)

    def roster(self, session: Session, department_id: int) -> list[tuple[User, int]]:
        """The department's agents with their open conversation counts."""
        members = repository.department_members(session, department_id)
        counts = repository.open_counts(session, [m.id for m in members])
        return [(m, counts.get(m.id, 0)) for m in members]

    def user_department_ids(self, session: Session, user_id: int) -> set[int]:
        """The departments a user belongs to: the department part of their scope."""
        return repository.user_department_ids(session, user_id)

    def location_info(self, session: Session, location_id: int) -> LocationInfo:
        return repository.location_info(session, location_id)

    def location_path(self, session: Session, location_id: int) -> str:
        """The location's materialised path; an unknown id yields a path that matches nothing."""
        return repository.location_path(session, location_id)

    def location_by_key(self, session: Session, org_id: int, key: str) -> Location | None:
        return repository.location_by_key(session, org_id, key)

    def time_zones_of(self, session: Session, user: User) -> tuple[str | None, str | None, str | None]:
        """The user's own zone, their location's and their organisation's, for reading times."""
        return repository.time_zones_of(session, user)

    def set_presence(self, session: Session, user: User, online: bool) -> User:
        """Mark an agent on- or offline within the caller's transaction."""
        user.online = online
        return user


org_service = OrgService()
