"""What a merge of two contacts keeps: pure rules, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_ATTRIBUTES = 50
MAX_KEY = 64
MAX_TEXT = 500


def merged_attributes(survivor: Mapping[str, Any], duplicate: Mapping[str, Any]) -> dict[str, Any]:
    """The survivor's values win; the duplicate only fills what the survivor does not know.

    Numbers that count the person's history (purchases, followers) are not added up: the two
    records usually saw the same purchases through different networks, so the larger is kept.
    """
    out = dict(duplicate)
    for key, value in survivor.items():
        other = duplicate.get(key)
        if (
            isinstance(value, int | float)
            and isinstance(other, int | float)
            and not isinstance(value, bool)
            and not isinstance(other, bool)
        ):
            out[key] = max(value, other)
        elif value is not None or key not in out:
            out[key] = value
    return out


def attribute_problems(attributes: Mapping[str, Any]) -> list[str]:
    """Why these attributes cannot be stored: routing rules read them, so keep them plain."""
    problems = []
    if len(attributes) > MAX_ATTRIBUTES:
        problems.append(f"attributes: at most {MAX_ATTRIBUTES} keys, got {len(attributes)}")
    for key, value in attributes.items():
        where = f"attributes.{key[:MAX_KEY]}"
        if not key or len(key) > MAX_KEY:
            problems.append(f"{where}: a key must have 1 to {MAX_KEY} characters")
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                problems.append(f"{where}: text longer than {MAX_TEXT} characters")
        elif value is not None and not isinstance(value, bool | int | float):
            problems.append(f"{where}: must be text, a number, true/false or null")
    return problems
