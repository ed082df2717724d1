"""Writing the audit log: a session that carries an actor records every configuration row it flushes.

One listener on the ORM's flush catches a change whichever way it came (a settings page, the API,
`config apply`), in the same transaction as the change: a change that rolls back leaves no entry,
and none can be made without one while its session says who is acting. Sessions without an
actor (the pipeline, pollers, housekeeping) change no configuration and record nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from relaydesk.audit import repository
from relaydesk.audit.changes import difference, label, snapshot
from relaydesk.core.timeutil import utcnow
from relaydesk.models import (
    Agency,
    ApiToken,
    BusinessHours,
    CannedResponse,
    ChannelAccount,
    CrisisPlaybook,
    Department,
    FaqEntry,
    Guideline,
    Intent,
    ListeningQuery,
    Location,
    NotificationDestination,
    Organization,
    RoutingRule,
    SlaPolicy,
    User,
    UserAccount,
    UserDepartment,
)

KINDS: dict[type[Any], str] = {
    Organization: "organization",
    BusinessHours: "business_hours",
    Location: "location",
    Agency: "agency",
    Department: "department",
    User: "person",
    UserDepartment: "membership",
    UserAccount: "account_access",
    ApiToken: "api_token",
    ChannelAccount: "account",
    Intent: "intent",
    RoutingRule: "routing_rule",
    SlaPolicy: "sla_policy",
    Guideline: "guideline",
    FaqEntry: "faq",
    CannedResponse: "canned_response",
    ListeningQuery: "listening_query",
    NotificationDestination: "destination",
    CrisisPlaybook: "crisis_playbook",
}
_ACTOR = "relaydesk.audit.actor"


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    via: str  # web, api, apply, cli, demo


def acting(session: Session, actor: Actor) -> None:
    """From now on this session's configuration changes are recorded as made by `actor`."""
    session.info[_ACTOR] = actor


def actor_of(session: Session) -> Actor | None:
    actor = session.info.get(_ACTOR)
    return actor if isinstance(actor, Actor) else None


def _columns(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    return {attr.key: state.dict.get(attr.key) for attr in state.mapper.column_attrs}


def _before(obj: Any) -> dict[str, Any]:
    """The row as it was loaded, from each changed attribute's history."""
    state = inspect(obj)
    values = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.deleted:
            values[attr.key] = history.deleted[0]
        elif history.unchanged:
            values[attr.key] = history.unchanged[0]
        else:
            values[attr.key] = state.dict.get(attr.key)
    return values


def _org_of(session: Session, obj: Any, values: dict[str, Any]) -> int | None:
    if isinstance(obj, Organization):
        return obj.id
    if isinstance(obj, UserDepartment | UserAccount | ApiToken):
        # A token, a membership and an account limit belong to the organisation of their person.
        user = session.identity_map.get(inspect(User).identity_key_from_primary_key((obj.user_id,)))
        return user.org_id if isinstance(user, User) else None
    org_id = values.get("org_id")
    return org_id if isinstance(org_id, int) else None


def _key(session: Session, obj: Any, values: dict[str, Any]) -> str:
    if isinstance(obj, UserDepartment):
        # Named from what this session already holds; ids when it does not (no query mid-flush).
        user = session.identity_map.get(inspect(User).identity_key_from_primary_key((obj.user_id,)))
        dept = session.identity_map.get(
            inspect(Department).identity_key_from_primary_key((obj.department_id,))
        )
        who = user.handle if isinstance(user, User) else f"#{obj.user_id}"
        where = dept.key if isinstance(dept, Department) else f"#{obj.department_id}"
        return f"{who} → {where}"
    if isinstance(obj, UserAccount):
        user = session.identity_map.get(inspect(User).identity_key_from_primary_key((obj.user_id,)))
        account = session.identity_map.get(
            inspect(ChannelAccount).identity_key_from_primary_key((obj.account_id,))
        )
        who = user.handle if isinstance(user, User) else f"#{obj.user_id}"
        where = account.key if isinstance(account, ChannelAccount) else f"#{obj.account_id}"
        return f"{who} → {where}"
    return label(values)


def _after_flush(session: Session, _context: Any) -> None:
    actor = actor_of(session)
    if actor is None:
        return
    now = utcnow()
    rows: list[dict[str, Any]] = []

    def add(obj: Any, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        values = _columns(obj)
        org_id = _org_of(session, obj, values)
        if org_id is None:
            return
        rows.append(
            {
                "org_id": org_id,
                "at": now,
                "actor_id": actor.user_id,
                "actor_name": actor.name,
                "via": actor.via,
                "kind": KINDS[type(obj)],
                "key": _key(session, obj, values)[:300],
                "action": action,
                "before": before,
                "after": after,
            }
        )

    for obj in session.new:
        if type(obj) in KINDS:
            add(obj, "created", None, snapshot(_columns(obj)))
    for obj in session.dirty:
        if type(obj) in KINDS and session.is_modified(obj, include_collections=False):
            before, after = difference(_before(obj), _columns(obj))
            if before or after:
                add(obj, "updated", before, after)
    for obj in session.deleted:
        if type(obj) in KINDS:
            add(obj, "deleted", snapshot(_columns(obj)), None)
    if rows:
        repository.insert_entries(session, rows)


_installed = False


def install() -> None:
    """Listen to every session's flushes (once per process)."""
    global _installed
    if not _installed:
        event.listen(Session, "after_flush", _after_flush)
        _installed = True
