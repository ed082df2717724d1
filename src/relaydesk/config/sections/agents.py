"""`agents:`: the people, their roles, departments, shifts and first password."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.auth.crypto import hash_password
from relaydesk.config import repository
from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import Path_
from relaydesk.config.schemas import AgentConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter, ref
from relaydesk.core.enums import ORG_WIDE_ROLES, Role
from relaydesk.models import Agency, ChannelAccount, Department, Location, User, UserAccount, UserDepartment
from relaydesk.orgs.shifts import split_time_off, validate_shifts, with_time_off


def check(
    c: Checker,
    agents: list[tuple[int, AgentConfig]],
    known_departments: set[str],
    known_agencies: set[str],
    known_locations: set[str],
    known_accounts: set[str] | None = None,
) -> set[str]:
    """Check the agents; their handles, for the rules that name people. `known_accounts` None:
    the file has no `accounts:` section, so the keys are looked up in the database when applied."""
    c.duplicates("agents", [(i, a.email) for i, a in agents], "email", "email")
    c.duplicates("agents", [(i, a.handle) for i, a in agents], "handle", "handle")
    plain: list[int] = []
    for index, agent in agents:
        base: Path_ = ("agents", index)
        for j, key in enumerate(agent.departments):
            if key not in known_departments:
                c.problem((*base, "departments", j), unknown("department", key, known_departments))
        for repeated, count in Counter(agent.departments).items():
            if count > 1:
                c.warn((*base, "departments"), f"department {repeated!r} is listed {count} times")
        if agent.agency is not None and agent.agency not in known_agencies:
            c.problem((*base, "agency"), unknown("agency", agent.agency, known_agencies))
        if agent.location is not None and agent.location not in known_locations:
            c.problem((*base, "location"), unknown("location", agent.location, known_locations))
        for j, key in enumerate(agent.accounts):
            if known_accounts is not None and key not in known_accounts:
                c.problem((*base, "accounts", j), unknown("account", key, known_accounts))
        if agent.shifts:
            shifts = [s.model_dump(mode="json") for s in agent.shifts]
            for message in validate_shifts(shifts):
                c.problem(_shift_path(base, str(message)), str(message))
        if agent.password is not None and agent.password_env is not None:
            c.problem((*base, "password"), "give either 'password' or 'password_env', not both")
        elif agent.password is not None and not c.allow_plain_passwords:
            plain.append(index)
        elif agent.password_env is not None and agent.password_env not in c.env:
            c.warn(
                (*base, "password_env"),
                f"environment variable {agent.password_env} is not set: "
                "the agent will be created without a password",
            )
        if agent.role == Role.AGENT and not agent.departments and agent.active:
            c.warn((*base, "departments"), "agent belongs to no department: no queue will reach them")
    if plain:
        # One warning, at the first one: the demo file alone would otherwise print a screenful.
        others = f" (and {len(plain) - 1} more agents)" if len(plain) > 1 else ""
        c.warn(
            ("agents", plain[0], "password"),
            f"clear-text password in the file{others}: use 'password_env: NAME' outside the demo",
        )
    if agents and not any(a.role in ORG_WIDE_ROLES and a.active for _, a in agents):
        c.warn(("agents",), "no active owner or admin: nobody can administer the organisation")
    return {agent.handle for _, agent in agents}


def _shift_path(base: Path_, message: str) -> Path_:
    match = re.match(r"shift (\d+)\b", message)
    if match:
        return (*base, "shifts", int(match.group(1)) - 1)
    return (*base, "shifts")


def apply(
    u: Upserter,
    departments: dict[str, Department],
    agencies: dict[str, Agency],
    locations: dict[str, Location],
) -> None:
    users = repository.org_rows(u.session, User, u.org.id)
    by_email = {user.email.lower(): user for user in users}
    wanted_handles = {agent.handle: agent.email for agent in u.config.agents}
    _free_handles(u, users, wanted_handles)
    in_file: dict[str, User] = {}
    for agent in u.config.agents:
        values = {
            "email": agent.email,
            "handle": agent.handle,
            "name": agent.name,
            "role": agent.role.value,
            "languages": list(agent.languages),
            "skills": list(agent.skills),
            "timezone": agent.timezone or u.config.organization.timezone,
            "shifts": with_time_off(
                [shift.model_dump(mode="json") for shift in agent.shifts],
                [day.isoformat() for day in agent.time_off],
            ),
            "max_concurrent": agent.max_concurrent,
            "agency_id": ref(agencies, agent.agency, "agency").id if agent.agency else None,
            "location_id": ref(locations, agent.location, "location").id if agent.location else None,
            "active": agent.active,
        }
        user = u.upsert("agents", by_email.pop(agent.email, None), User, values)
        if user.password_hash is None:
            password = _initial_password(u, agent)
            if password:
                user.password_hash = hash_password(password)
                u.mark("agents", user)
        in_file[agent.email] = user
    u.session.flush()
    _sync_memberships(u, in_file, departments)
    # People the file does not list are switched off only when the file lists people at all.
    for user in by_email.values() if u.mentions("agents") else ():
        if user.active:
            user.active = False
            u.count(u.summary.deactivated, "agents")
    u.session.flush()


def _initial_password(u: Upserter, agent: AgentConfig) -> str | None:
    if agent.password is not None:
        return str(agent.password.get_secret_value())
    if agent.password_env:
        value = u.env.get(agent.password_env)
        if value:
            return str(value)
        u.summary.warnings.append(
            f"agent {agent.email}: {agent.password_env} is not set; created without a password"
        )
    return None


def _free_handles(u: Upserter, users: list[User], wanted: dict[str, str]) -> None:
    """Move a handle out of the way when the file gives it to someone else (a swap, or a new
    agent taking the handle of a removed one): handles are unique per organisation."""
    moved = False
    for user in users:
        owner = wanted.get(user.handle)
        if owner is not None and owner != user.email.lower():
            user.handle = f"{user.handle}~{user.id}"[:64]
            moved = True
            if user.email.lower() not in {email for email in wanted.values()}:
                u.summary.warnings.append(
                    f"handle of removed agent {user.email} renamed to {user.handle!r}: the file reuses it"
                )
    if moved:
        u.session.flush()


def _sync_memberships(u: Upserter, users: dict[str, User], departments: dict[str, Department]) -> None:
    ids = [user.id for user in users.values()]
    current: dict[int, set[int]] = {}
    rows: list[UserDepartment] = repository.memberships(u.session, ids) if ids else []
    by_pair: dict[tuple[int, int], UserDepartment] = {}
    for row in rows:
        current.setdefault(row.user_id, set()).add(row.department_id)
        by_pair[(row.user_id, row.department_id)] = row
    for agent in u.config.agents:
        user = users[agent.email]
        want = {ref(departments, key, "department").id for key in agent.departments}
        have = current.get(user.id, set())
        for department_id in want - have:
            u.session.add(UserDepartment(user_id=user.id, department_id=department_id))
        for department_id in have - want:
            repository.remove(u.session, by_pair[(user.id, department_id)])
        if want != have:
            u.mark("agents", user)


def apply_account_limits(u: Upserter) -> None:
    """Each listed person's `accounts:`; after the accounts are applied, which they name."""
    if not u.mentions("agents"):
        return
    accounts = u.rows(ChannelAccount, "key")
    users = {user.email.lower(): user for user in repository.org_rows(u.session, User, u.org.id)}
    listed = [
        (users[agent.email.lower()], agent) for agent in u.config.agents if agent.email.lower() in users
    ]
    rows = repository.account_limits(u.session, [user.id for user, _ in listed]) if listed else []
    current: dict[int, dict[int, UserAccount]] = {}
    for row in rows:
        current.setdefault(row.user_id, {})[row.account_id] = row
    for user, agent in listed:
        want = {ref(accounts, key, "account").id for key in agent.accounts}
        have = current.get(user.id, {})
        for account_id in want - set(have):
            u.session.add(UserAccount(user_id=user.id, account_id=account_id))
        for account_id in set(have) - want:
            repository.remove(u.session, have[account_id])
        if want != set(have):
            u.mark("agents", user)
    u.session.flush()


def account_keys(session: Session, users: list[User], account_key: dict[int, str]) -> dict[int, list[str]]:
    """Each limited user's account keys, sorted."""
    out: dict[int, list[str]] = {}
    if users:
        for row in repository.account_limits(session, [u.id for u in users]):
            if row.account_id in account_key:
                out.setdefault(row.user_id, []).append(account_key[row.account_id])
    return {user_id: sorted(keys) for user_id, keys in out.items()}


def memberships(session: Session, users: list[User], department_key: dict[int, str]) -> dict[int, list[str]]:
    """Each user's department keys, in the departments' order."""
    out: dict[int, list[str]] = {}
    if users:
        for membership in repository.memberships(session, [u.id for u in users], ordered=True):
            out.setdefault(membership.user_id, []).append(department_key[membership.department_id])
    return out


def export(
    users: list[User],
    memberships: dict[int, list[str]],
    agency_key: dict[int, str],
    location_key: dict[int, str],
    org_zone: str,
    limits: dict[int, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Passwords are never exported; removed agents appear with `active: false`."""
    return [
        compact(
            {
                "email": u.email,
                "name": u.name,
                "handle": u.handle,
                "role": u.role,
                "departments": memberships.get(u.id, []),
                "languages": list(u.languages or []),
                "skills": list(u.skills or []),
                "timezone": u.timezone,
                "shifts": split_time_off(list(u.shifts or []))[0],
                "time_off": split_time_off(list(u.shifts or []))[1],
                "max_concurrent": u.max_concurrent,
                "agency": agency_key.get(u.agency_id) if u.agency_id else None,
                "location": location_key.get(u.location_id) if u.location_id else None,
                "accounts": (limits or {}).get(u.id, []),
                "active": u.active,
            },
            {
                "agency": None,
                "location": None,
                "active": True,
                "timezone": org_zone,
                "time_off": [],
                "accounts": [],
            },
        )
        for u in users
    ]
