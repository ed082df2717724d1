"""One organisation's routing configuration, read once and reused until it changes.

Routing, assignment and SLA clocks need the org tree, departments, agencies, rosters (skills,
languages, shifts, capacity), compiled routing rules, SLA policies and business hours. Reading
them for every message was most of the pipeline's SQL; a snapshot holds them in memory, keyed by
`organizations.config_version`, a random stamp that models/stamp.py sets in the same
transaction as any ORM change to those rows. A worker compares the stamp once per batch (one
query), so a change made by the API, `config apply` or another process is used from the next
batch on. A random stamp (not a counter) cannot repeat after a rollback or a reset database.

What changes all the time is never cached here: agents' load (open conversations), presence
(`online`) and `last_assigned_at` are read live at assignment (routing/service.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.models import Agency, SlaPolicy
from relaydesk.orgs import repository
from relaydesk.orgs.repository import LocationInfo
from relaydesk.routing.rules import Rule, RuleError, compile_rules
from relaydesk.sla.clock import BusinessCalendar

# Where a batch pins the snapshots it uses, so each message does not re-read the stamp.
PIN_KEY = "relaydesk.org_snapshots"


@dataclass(frozen=True)
class DepartmentInfo:
    id: int
    key: str
    name: str
    is_default: bool
    assignment: str
    agency_id: int | None


@dataclass(frozen=True)
class AgencyInfo:
    id: int
    org_id: int
    key: str
    name: str
    contract: dict[str, Any]

    def as_model(self) -> Agency:
        """A transient Agency (never added to a session) for code written against the model."""
        return Agency(
            id=self.id, org_id=self.org_id, key=self.key, name=self.name, contract=dict(self.contract)
        )


@dataclass(frozen=True)
class MemberInfo:
    """An active person's configuration; load, presence and last assignment are read live."""

    id: int
    handle: str
    role: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    shifts: tuple[Any, ...]
    timezone: str
    max_concurrent: int
    agency_id: int | None
    location_id: int | None
    account_ids: frozenset[int] | None = None  # None: not limited to named accounts


@dataclass
class OrgSnapshot:
    org_id: int
    version: str | None
    reopen_window_hours: int
    stage_departments: dict[str, Any]
    departments: list[DepartmentInfo]
    agencies: dict[int, AgencyInfo]
    members: dict[int, list[MemberInfo]]  # department id -> active members, by id
    handles: dict[int, str]  # every person of the org, active or not
    active_handles: dict[str, int]
    policies: list[SlaPolicy]  # transient copies: never added to a session, so never flushed back
    hours: dict[str, tuple[dict[str, Any], tuple[str, ...]]]  # business hours key -> (weekly, holidays)
    _locations: dict[int, tuple[str, str, str, int | None]]  # id -> key, path, timezone, hours id
    _hours_by_id: dict[int, tuple[dict[str, Any], tuple[str, ...]]]
    _rules: list[Rule] | None
    _rule_error: RuleError | None
    _location_infos: dict[int, LocationInfo] = field(default_factory=dict)
    _calendars: dict[tuple[int, str | None], BusinessCalendar] = field(default_factory=dict)

    # -- departments and agencies -------------------------------------------------------------

    @property
    def known_departments(self) -> set[str]:
        return {d.key for d in self.departments}

    def department(self, department_id: int | None) -> DepartmentInfo | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def department_by_key(self, key: str) -> DepartmentInfo | None:
        return next((d for d in self.departments if d.key == key), None)

    @property
    def default_department(self) -> DepartmentInfo | None:
        for dept in self.departments:
            if dept.is_default:
                return dept
        return self.departments[0] if self.departments else None

    def agency_by_key(self, key: str) -> AgencyInfo | None:
        return next((a for a in self.agencies.values() if a.key == key), None)

    def staffed_by(self, agency_id: int) -> DepartmentInfo | None:
        """The first department (by id) the agency staffs."""
        return next((d for d in self.departments if d.agency_id == agency_id), None)

    # -- rules ----------------------------------------------------------------------------------

    @property
    def rules(self) -> list[Rule]:
        if self._rule_error is not None:
            raise self._rule_error
        return self._rules or []

    # -- locations and hours --------------------------------------------------------------------

    def location_info(self, location_id: int) -> LocationInfo:
        """As orgs.repository.location_info, from memory (computed once per location)."""
        cached = self._location_infos.get(location_id)
        if cached is not None:
            return cached
        row = self._locations.get(location_id)
        if row is None:
            raise LookupError(f"location {location_id} does not exist")
        key, path, timezone, _hours = row
        ids = [int(part) for part in path.strip("/").split("/") if part]
        ordered = [i for i in reversed(ids) if i in self._locations] or [location_id]
        # The nearest node with business hours decides: a location inherits its region's or brand's.
        hours: tuple[dict[str, Any], tuple[str, ...]] | None = None
        for node in ordered:
            hours_id = self._locations[node][3]
            if hours_id is not None:
                hours = self._hours_by_id.get(hours_id)
                break
        info = LocationInfo(
            id=location_id,
            key=key,
            path=path,
            timezone=timezone,
            ancestor_keys=tuple(self._locations[node][0] for node in ordered),
            weekly=None if hours is None else dict(hours[0]),
            holidays=() if hours is None else hours[1],
        )
        self._location_infos[location_id] = info
        return info

    def location_path(self, location_id: int) -> str:
        row = self._locations.get(location_id)
        # An unknown location scope matches nothing rather than everything.
        return row[1] if row else "/nowhere/"

    def calendar(self, key: tuple[int, str | None]) -> BusinessCalendar | None:
        return self._calendars.get(key)

    def remember_calendar(self, key: tuple[int, str | None], calendar: BusinessCalendar) -> None:
        self._calendars[key] = calendar


def _build(session: Session, org_id: int, version: str | None) -> OrgSnapshot:
    org = repository.org_settings_row(session, org_id)
    if org is None:
        raise LookupError(f"organisation {org_id} does not exist")
    departments = [
        DepartmentInfo(d.id, d.key, d.name, bool(d.is_default), d.assignment, d.agency_id)
        for d in repository.department_rows(session, org_id)
    ]
    agencies = {
        a.id: AgencyInfo(a.id, org_id, a.key, a.name, dict(a.contract or {}))
        for a in repository.agency_rows(session, org_id)
    }
    hours_rows = list(repository.business_hours_rows(session, org_id))
    hours_by_id = {h.id: (dict(h.weekly or {}), tuple(h.holidays or ())) for h in hours_rows}
    hours = {h.key: hours_by_id[h.id] for h in hours_rows}
    locations = {
        row.id: (row.key, row.path, row.timezone, row.business_hours_id)
        for row in repository.location_rows(session, org_id)
    }
    users = repository.org_users(session, org_id)
    limits = repository.account_limits(session, org_id)
    handles = {u.id: u.handle for u in users}
    active = {
        u.id: MemberInfo(
            id=u.id,
            handle=u.handle,
            role=u.role,
            languages=tuple(u.languages or ()),
            skills=tuple(u.skills or ()),
            shifts=tuple(u.shifts or ()),
            timezone=u.timezone or "UTC",
            max_concurrent=u.max_concurrent,
            agency_id=u.agency_id,
            location_id=u.location_id,
            account_ids=limits.get(u.id),
        )
        for u in users
        if u.active
    }
    members: dict[int, list[MemberInfo]] = {d.id: [] for d in departments}
    for department_id, user_id in repository.memberships(session, org_id):
        if user_id in active:
            members.setdefault(department_id, []).append(active[user_id])
    policies = [
        SlaPolicy(
            id=p.id,
            org_id=p.org_id,
            name=p.name,
            department_key=p.department_key,
            priority=p.priority,
            channel=p.channel,
            first_response_minutes=p.first_response_minutes,
            next_response_minutes=p.next_response_minutes,
            resolution_minutes=p.resolution_minutes,
            business_hours_key=p.business_hours_key,
            around_the_clock=p.around_the_clock,
            warn_before_minutes=p.warn_before_minutes,
        )
        for p in repository.sla_policies(session, org_id)
    ]
    raw_rules = [
        {"name": r.name, "when": dict(r.conditions or {}), "then": dict(r.actions or {}), "stop": r.stop}
        for r in repository.enabled_rules(session, org_id)
    ]
    rules: list[Rule] | None = None
    rule_error: RuleError | None = None
    try:
        rules = compile_rules(raw_rules, {d.key for d in departments})
    except RuleError as exc:
        # As before the snapshot: routing fails (and the message is retried) until the rules are fixed.
        rule_error = exc
    return OrgSnapshot(
        org_id=org_id,
        version=version,
        reopen_window_hours=int(org.reopen_window_hours),
        stage_departments=dict(org.stage_departments or {}),
        departments=departments,
        agencies=agencies,
        members=members,
        handles=handles,
        active_handles={m.handle: m.id for m in active.values()},
        policies=policies,
        hours=hours,
        _locations=locations,
        _hours_by_id=hours_by_id,
        _rules=rules,
        _rule_error=rule_error,
    )


class OrgSnapshots:
    """Snapshots per organisation, shared by every worker thread of a process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[int, OrgSnapshot] = {}
        self.builds = 0  # how many times configuration was read (tests, metrics)

    def versions(self, session: Session, org_ids: Iterable[int]) -> dict[int, str | None]:
        wanted = sorted(set(org_ids))
        if not wanted:
            return {}
        return repository.config_versions(session, wanted)

    def get(self, session: Session, org_id: int) -> OrgSnapshot:
        """The pinned snapshot of this transaction, else the current one (checks the stamp)."""
        pinned: dict[int, OrgSnapshot] | None = session.info.get(PIN_KEY)
        if pinned is not None and org_id in pinned:
            return pinned[org_id]
        version = self.versions(session, [org_id]).get(org_id)
        return self._current(session, org_id, version)

    def pin(self, session: Session, org_ids: Iterable[int]) -> None:
        """Check the stamps of a batch's organisations once; the batch's messages reuse them."""
        pinned: dict[int, OrgSnapshot] = session.info.setdefault(PIN_KEY, {})
        for org_id, version in self.versions(session, org_ids).items():
            pinned[org_id] = self._current(session, org_id, version)

    def invalidate(self, org_id: int | None = None) -> None:
        with self._lock:
            if org_id is None:
                self._cache.clear()
            else:
                self._cache.pop(org_id, None)

    def _current(self, session: Session, org_id: int, version: str | None) -> OrgSnapshot:
        with self._lock:
            cached = self._cache.get(org_id)
        if cached is not None and cached.version == version:
            return cached
        snapshot = _build(session, org_id, version)
        with self._lock:
            self.builds += 1
            self._cache[org_id] = snapshot
        return snapshot


def unpin(session: Session) -> None:
    session.info.pop(PIN_KEY, None)
