"""One module per section of `relaydesk.yaml`, each with the three things done to it: `check`
(what one file says, across sections), `apply` (upsert into the database) and `export` (back to
the file's shape)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def compact(values: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Leave out what equals the format's default, so the export reads like a hand-written file."""
    return {name: value for name, value in values.items() if name not in defaults or defaults[name] != value}


def keys_by_id(rows: Iterable[Any]) -> dict[int, str]:
    return {row.id: row.key for row in rows}
