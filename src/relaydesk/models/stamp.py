"""The configuration stamp: `organizations.config_version` changes with any configuration row.

Registered when the models are imported, so every process that writes configuration (the
server, `relaydesk config apply`, a worker) stamps it in the same transaction as the change;
orgs/snapshot.py compares stamps to know when its cached copy is stale. Changes must go through
the ORM unit of work (as all of RelayDesk's configuration writes do), not bulk UPDATE statements.
"""

from __future__ import annotations

import uuid
from types import EllipsisType
from typing import Any, cast

from sqlalchemy import Table, event, inspect, update
from sqlalchemy.orm import Session, class_mapper

from relaydesk.models.config import RoutingRule, SlaPolicy
from relaydesk.models.orgs import (
    Agency,
    BusinessHours,
    Department,
    Location,
    Organization,
    User,
    UserAccount,
    UserDepartment,
)

# User columns that change in daily work, not configuration: read live, never invalidate.
VOLATILE_USER_FIELDS = frozenset({"online", "last_assigned_at", "password_hash"})
CONFIG_MODELS: tuple[type[Any], ...] = (
    Organization,
    BusinessHours,
    Location,
    Department,
    Agency,
    User,
    UserDepartment,
    UserAccount,
    RoutingRule,
    SlaPolicy,
)
_PENDING_KEY = "relaydesk.config_changed_orgs"


def new_stamp() -> str:
    return uuid.uuid4().hex


def _org_of(session: Session, obj: Any) -> int | EllipsisType | None:
    """The organisation a configuration row belongs to; Ellipsis when it cannot be told cheaply."""
    if isinstance(obj, Organization):
        return obj.id
    if isinstance(obj, UserDepartment | UserAccount):
        parent = obj.department_id if isinstance(obj, UserDepartment) else None
        for model, key in ((Department, parent), (User, obj.user_id)):
            if key is None:
                continue
            loaded = session.identity_map.get(class_mapper(model).identity_key_from_primary_key((key,)))
            if loaded is not None:
                return int(getattr(loaded, "org_id"))  # noqa: B009 - Department or User
        return Ellipsis  # every organisation is stamped: correct, merely one extra reload each
    org_id = getattr(obj, "org_id", None)
    return int(org_id) if org_id is not None else Ellipsis


def _changes_config(obj: Any) -> bool:
    if not isinstance(obj, CONFIG_MODELS):
        return False
    ignored = VOLATILE_USER_FIELDS if isinstance(obj, User) else frozenset({"config_version"})
    return any(attr.key not in ignored and attr.history.has_changes() for attr in inspect(obj).attrs)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    touched: set[Any] = session.info.setdefault(_PENDING_KEY, set())
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, CONFIG_MODELS):
            touched.add(_org_of(session, obj))
    for obj in session.dirty:
        if _changes_config(obj):
            touched.add(_org_of(session, obj))


def _after_flush(session: Session, _context: Any) -> None:
    touched: set[Any] = session.info.pop(_PENDING_KEY, set())
    touched.discard(None)  # a new organisation: its row got a fresh stamp as its default
    if not touched:
        return
    table = cast(Table, Organization.__table__)
    statement = update(table).values(config_version=new_stamp())
    if Ellipsis not in touched:
        statement = statement.where(table.c.id.in_(sorted(int(t) for t in touched)))
    session.connection().execute(statement)


def register() -> None:
    """Idempotent: stamp organisations whenever a flush changes their configuration."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
