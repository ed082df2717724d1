"""What an audit entry keeps of a change: plain values, only what changed, never a secret."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

# Bookkeeping every row has, and values that change in daily work rather than by a decision
# (presence, round-robin position, a person's own page settings): logging them would bury the
# decisions people look for.
NOT_AUDITED = frozenset(
    {
        "id",
        "org_id",
        "created_at",
        "updated_at",
        "config_version",
        "online",
        "last_assigned_at",
        "last_used_at",
        "ui_locale",
        "calendar",
        "notification_prefs",
        # A place's materialised path follows from its parent (parent_id says a move).
        "path",
    }
)
SECRET_MARKER = "(secret)"
_SECRET_PARTS = ("password", "secret", "credential", "token", "hash")


def is_secret(field: str) -> bool:
    return any(part in field for part in _SECRET_PARTS)


def plain(value: Any) -> Any:
    """A JSON value for any column value (dates as ISO text, enums by value)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def shown(field: str, value: Any) -> Any:
    if is_secret(field):
        return None if value is None else SECRET_MARKER
    return plain(value)


def snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    """A created or deleted row: every field that matters, secrets as a marker."""
    return {f: shown(f, v) for f, v in sorted(values.items()) if f not in NOT_AUDITED}


def difference(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose value changed, before and after; empty when nothing that matters did.

    A secret that changed shows as the marker on both sides: the log says it changed, not to what.
    """
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for field in sorted(set(before) | set(after)):
        if field in NOT_AUDITED:
            continue
        was, now = plain(before.get(field)), plain(after.get(field))
        if was == now:
            continue
        old[field], new[field] = shown(field, was), shown(field, now)
    return old, new


def label(values: Mapping[str, Any]) -> str:
    """The name people know the object by."""
    for field in ("name", "key", "handle", "email"):
        value = values.get(field)
        if isinstance(value, str) and value:
            return value
    return "#" + str(values.get("id", "?"))
