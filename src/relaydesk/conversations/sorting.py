"""The orders an inbox page can be sorted in, and their cursors (pure).

Each order is a key ending in the conversation id, so it is total and a cursor (the last row's
key) names exactly where the next page starts, whatever arrives meanwhile:

- `newest` (the default): latest activity first;
- `waiting`: the customer who has waited longest for an answer first (conversations nobody
  waits on come last);
- `due`: the nearest SLA deadline first (breached ones are the nearest), those without one last;
- `priority`: urgent, high, normal, low; the latest activity first within each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relaydesk.core import pagination
from relaydesk.core.errors import UserError
from relaydesk.core.timeutil import as_utc

SORTS: tuple[str, ...] = ("newest", "waiting", "due", "priority")
DEFAULT_SORT = "newest"
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
NULL = "-"  # a key part that is empty (waiting on nobody, no deadline)

Value = datetime | int | None


def sort_problem(sort: str | None) -> str | None:
    """What is wrong with a `sort` value, naming the ones that work; None when it is fine."""
    if not sort or sort in SORTS:
        return None
    return f"sort: {sort!r} is not one of {', '.join(SORTS)}"


@dataclass(frozen=True)
class Position:
    """Where a page ends in an order: the last row's key (`value` is the priority rank for
    `priority`, whose key also has `at`, the activity time)."""

    sort: str
    value: Value
    at: datetime | None
    ident: int


def encode(position: Position) -> str:
    if position.sort == DEFAULT_SORT:
        # The cursor every client already holds: (activity, id).
        return pagination.encode_cursor(_text(position.value), position.ident)
    return pagination.encode_cursor(position.sort, _text(position.value), _text(position.at), position.ident)


def decode(sort: str, cursor: str) -> Position:
    """The position a cursor of `sort` holds; UserError for anything else (another order's too)."""
    try:
        if sort == DEFAULT_SORT:
            stamp, ident = pagination.decode_cursor(cursor, 2)
            return Position(sort, _moment(stamp), None, _ident(ident))
        name, value, at, ident = pagination.decode_cursor(cursor, 4)
        if name != sort:
            raise ValueError("a cursor of another order")
        parsed: Value = (
            (None if value == NULL else int(value)) if sort == "priority" else _optional_moment(value)
        )
        return Position(sort, parsed, _optional_moment(at), _ident(ident))
    except (ValueError, TypeError) as exc:
        raise UserError("cursor: not a cursor this API returned for this sort") from exc


def _text(value: Value) -> str:
    return NULL if value is None else value.isoformat() if isinstance(value, datetime) else str(value)


def _moment(text: str) -> datetime:
    moment = as_utc(datetime.fromisoformat(text))
    if moment is None:
        raise ValueError("no time")
    return moment


def _optional_moment(text: str) -> datetime | None:
    return None if text == NULL else _moment(text)


def _ident(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= pagination.MAX_ID:
        raise ValueError("not an id")
    return int(text)
