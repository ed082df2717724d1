"""What other slices may ask of the organisation: departments, rosters, scopes, locations, presence.

Other slices read the organisation through this service rather than through `orgs.repository`,
so the queries stay in one place and can change without touching their callers. Every method
takes the caller's `Session`: these reads must see (and join) the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.db import reading, transaction
from relaydesk.models import Department, Location, Organization, User
from relaydesk.orgs import repository
from relaydesk.orgs.repository import OPEN_STATUSES, LocationInfo
from relaydesk.orgs.schemas import AgentOut, DepartmentOut, IntentOut

if TYPE_CHECKING:
    from relaydesk.auth.scopes import Scope

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

    def department_keys(self, session: Session, department_ids: list[int]) -> list[str]:
        return repository.department_keys(session, department_ids)

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

    # -- the operator's command line, across organisations -----------------------------------------

    def org_keys(self, session: Session) -> list[str]:
        """Every organisation's key, oldest first."""
        return repository.org_keys(session)

    def org_keys_by_id(self, session: Session) -> dict[int, str]:
        return repository.org_keys_by_id(session)

    def org_id_by_key(self, session: Session, key: str) -> int | None:
        return repository.org_id_by_key(session, key)

    def orgs_keyed(self, session: Session, key: str | None, limit: int) -> list[Organization]:
        """Up to `limit` organisations with this key (None: any)."""
        return repository.orgs_keyed(session, key, limit)

    def account_ids_by_key(self, session: Session, *, active_only: bool) -> dict[str, int]:
        """Channel account ids by key, of every organisation."""
        return repository.account_ids_by_key(session, active_only=active_only)

    def add_intent_examples(self, session: Session, name: str, examples: list[str]) -> int:
        """Give every organisation's intent of this name the examples it lacks; how many were added."""
        added = 0
        for row in repository.intents_named(session, name):
            missing = [e for e in examples if e not in row.examples]
            if missing:
                row.examples = [*row.examples, *missing]
                added += len(missing)
        return added

    # -- what the organisation API shows and edits: each call is its own transaction ---------------

    def department_list(self, sessions: sessionmaker[Session], scope: Scope) -> list[DepartmentOut]:
        with reading(sessions) as session:
            return [
                DepartmentOut(
                    id=d.id, key=d.key, name=d.name, is_default=d.is_default, assignment=d.assignment
                )
                for d in repository.departments(session, scope.org_id)
            ]

    def agent_list(self, sessions: sessionmaker[Session], scope: Scope) -> list[AgentOut]:
        with reading(sessions) as session:
            users = repository.active_users(session, scope.org_id)
            by_user = repository.department_keys_by_user(session, scope.org_id)
            agencies = repository.agency_keys(session, scope.org_id)
            return [
                AgentOut(
                    id=u.id,
                    handle=u.handle,
                    name=u.name,
                    role=u.role,
                    languages=list(u.languages or []),
                    skills=list(u.skills or []),
                    online=u.online,
                    max_concurrent=u.max_concurrent,
                    departments=sorted(by_user.get(u.id, [])),
                    agency=agencies.get(u.agency_id) if u.agency_id else None,
                )
                for u in users
            ]

    def set_own_presence(self, sessions: sessionmaker[Session], scope: Scope, online: bool) -> AgentOut:
        with transaction(sessions) as session:
            user = session.get(User, scope.user_id)
            assert user is not None
            self.set_presence(session, user, online)
        return next(a for a in self.agent_list(sessions, scope) if a.id == scope.user_id)

    def set_availability(self, sessions: sessionmaker[Session], user_id: int, online: bool) -> bool:
        """Available or away: away, routing gives the person no new conversations (what they
        already have stays theirs). Whether the user exists and is active."""
        with transaction(sessions) as session:
            return repository.set_online(session, user_id, online)

    def intent_list(self, sessions: sessionmaker[Session], scope: Scope) -> list[IntentOut]:
        with reading(sessions) as session:
            return [
                IntentOut(name=i.name, department=i.department_key, examples=list(i.examples))
                for i in repository.intents(session, scope.org_id)
            ]


org_service = OrgService()
