"""Graph payload helpers shared by facebook.py, instagram.py, whatsapp.py and meta.py.

Pure functions over decoded Meta payloads; the network modules import them from here, and
meta.py imports the network modules, so the imports run one way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from relaydesk.channels.base import OutboundFile, ParseResult


class PartError(ValueError):
    """One event of a batch cannot be parsed; the message names what is missing."""


def dig(obj: Any, dotted: str) -> Any:
    """``obj["a"]["b"]`` for ``"a.b"``, or None as soon as a level is missing or not an object."""
    current = obj
    for key in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def id_str(value: Any) -> str | None:
    """Meta sends ids as strings, occasionally as numbers; anything else is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def require_id(obj: Any, dotted: str) -> str:
    value = id_str(dig(obj, dotted))
    if value is None:
        raise PartError(f"missing {dotted}")
    return value


def as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def to_datetime(value: Any) -> datetime | None:
    """A Meta timestamp as aware UTC: epoch seconds or milliseconds (number or digit string).

    Messenger uses milliseconds, WhatsApp a seconds string, feed changes seconds; values past
    1e11 cannot be seconds (year 5138), so they are read as milliseconds.
    """
    if isinstance(value, bool):
        return None
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        raw = value.strip()
        try:
            number = float(raw)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if number is None or number <= 0:
        return None
    if number > 1e11:
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def merge(into: ParseResult, other: ParseResult) -> None:
    into.events.extend(other.events)
    into.statuses.extend(other.statuses)
    into.ignored.extend(other.ignored)
    into.errors.extend(other.errors)


def each_part(
    result: ParseResult, items: Any, path: str, parse_one: Callable[[dict[str, Any], str], ParseResult]
) -> None:
    """Parse every object of a list on its own: a broken one becomes an error line, not a crash.

    `parse_one` returns its own ParseResult so a part that fails half way adds nothing.
    """
    if items is None:
        return
    if not isinstance(items, list):
        result.errors.append(f"{path}: expected a list, got {type(items).__name__}")
        return
    for position, item in enumerate(items):
        part = f"{path}[{position}]"
        if not isinstance(item, dict):
            result.errors.append(f"{part}: expected an object, got {type(item).__name__}")
            continue
        try:
            merge(result, parse_one(item, part))
        except PartError as exc:
            result.errors.append(f"{part}: {exc}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Not str(exc): it may quote customer text, and error lines end up in logs.
            result.errors.append(f"{part}: malformed ({type(exc).__name__})")


@dataclass
class GraphCall:
    """One Graph API POST: the path below the versioned base URL and its JSON body."""

    path: str
    body: dict[str, Any] = field(default_factory=dict)
    # A file sent in the same call (Messenger's `filedata`): the body then goes as form fields.
    file: OutboundFile | None = None


_GRAPH_ID_RE = re.compile(r"[0-9A-Za-z_\-]{1,128}")


def graph_id(value: str | None, what: str) -> str:
    """An id that goes into a URL path: refuse anything that could change the path."""
    if value is None or not _GRAPH_ID_RE.fullmatch(value):
        raise ValueError(f"{what} is missing or not a Graph id")
    return value


# -- what the webhook endpoint needs from a delivery ------------------------------------------


def account_ref_of_part(payload: Any, steps: tuple[str | int, ...]) -> str | None:
    """Our account's id on Meta for a part: the Page / IG user id, or WhatsApp's phone-number id."""
    if len(steps) < 2 or steps[0] != "entry" or not isinstance(steps[1], int):
        return None
    entry = payload["entry"][steps[1]]
    if not isinstance(entry, dict):
        return None
    if payload.get("object") != "whatsapp_business_account":
        return id_str(entry.get("id"))
    # A WhatsApp entry's id is the business account; the number is in each change's metadata.
    if len(steps) >= 4 and steps[2] == "changes" and isinstance(steps[3], int):
        return id_str(dig(entry["changes"][steps[3]], "value.metadata.phone_number_id"))
    return None


def whatsapp_callback_keys(body: bytes) -> list[tuple[str, str, str]]:
    """(phone-number id, wamid, outbox key) of WhatsApp statuses that carry our key back."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []
    found: list[tuple[str, str, str]] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            phone = dig(value, "metadata.phone_number_id")
            statuses = value.get("statuses")
            for status in statuses if isinstance(statuses, list) else []:
                if not isinstance(status, dict):
                    continue
                key, wamid = status.get("biz_opaque_callback_data"), status.get("id")
                if phone is not None and isinstance(key, str) and key and isinstance(wamid, str):
                    found.append((str(phone), wamid, key))
    return found
