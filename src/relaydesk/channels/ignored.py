"""Webhook events RelayDesk does not act on, kept raw in ``ignored_events``.

Networks add event types without notice and sometimes send parts we cannot parse. A log line
alone loses them; a row keeps the raw part so an admin can see what was dropped
(``GET /api/v1/webhook-events``) and replay it once a parser exists.

Every note a parser writes to ``ParseResult.ignored`` / ``errors`` starts with the JSON path of
the part it concerns (``entry[0].changes[1]: ...``, ``events[2]: ...``, a bare ``favorite_events``).
`skipped_parts` resolves those paths in the decoded body, so exactly that event's part is kept:
never the whole delivery of other customers' messages, never headers or secrets. The pure half
(path resolution, kinds) has no I/O; `store` and `list_for_org` are the database edge.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.channels import repository
from relaydesk.core.safetext import storable_raw, storable_text
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import IgnoredEvent

log = logging.getLogger(__name__)

_PATH_RE = re.compile(r"^[A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*$")
_STEP_RE = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")
_LABEL_RE = re.compile(r"[^\w.-]+")
# A stored part larger than this is replaced by a short description (the row is a pointer for an
# operator, not an archive; the body limit already caps the whole delivery).
MAX_RAW_BYTES = 64 * 1024
# A redelivery of the same unknown event maps onto the row we have if it came this recently.
DEDUPE_WINDOW = timedelta(days=1)
REASON_MAX = 500
KIND_MAX = 128

Step = str | int


@dataclass
class SkippedPart:
    """One part of a delivery that was not accepted, with every note that concerns it."""

    path: str  # "" for the whole body
    steps: tuple[Step, ...]
    raw: Any
    kind: str
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)[:REASON_MAX]


def note_path(note: str) -> str:
    """The JSON path a note starts with, or "" when it names none (then the part is the body)."""
    head = note.split(":", 1)[0].strip()
    return head if _PATH_RE.match(head) else ""


def _steps(path: str) -> list[Step]:
    return [name if name else int(index) for name, index in _STEP_RE.findall(path)]


def resolve(payload: Any, path: str) -> tuple[tuple[Step, ...], Any]:
    """The deepest object or list on `path` that exists in `payload` (and its steps).

    A path ending in a missing field or a scalar field (``messages[2].text``, ``object``) names a
    field of an event: the event around it is what we keep. A scalar list item (``"junk"`` in a
    list of events) is itself the bad event: it is kept alone, never with its good neighbours.
    """
    node, found = payload, []
    for step in _steps(path):
        if isinstance(step, str) and isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            node = node[step]
        else:
            break
        found.append(step)
    while found and isinstance(found[-1], str) and not isinstance(node, dict | list):
        found.pop()
        node = payload
        for step in found:
            node = node[step]
    return tuple(found), node


def _label(value: Any) -> str | None:
    # Kinds come from the payload: keep them short identifiers, never free text.
    if not isinstance(value, str) or not value.strip():
        return None
    return _LABEL_RE.sub("_", value.strip())[:40] or None


def kind_of(network: str, steps: tuple[Step, ...], part: Any) -> str:
    """A short, log-safe name for the part: ``line:events:somethingNew``, ``facebook:changes:feed:share``."""
    names = [s for s in steps if isinstance(s, str)]
    labels: list[str | None] = [network, _label(names[-1]) if names else None]
    if isinstance(part, dict):
        if "update_id" in part:  # a Telegram Update: its one other key is its type
            labels.append(_label(next((k for k in part if k != "update_id"), None)))
        elif "sender" in part and "recipient" in part:  # a Messenger-Platform event
            labels.append(
                _label(next((k for k in part if k not in ("sender", "recipient", "timestamp")), None))
            )
        else:
            for key in ("object", "field", "type", "status"):
                if _label(part.get(key)):
                    labels.append(_label(part.get(key)))
                    break
            value = part.get("value")
            if "field" in part and isinstance(value, dict):
                labels.append(_label(value.get("item")))
    return ":".join(label for label in labels if label)[:KIND_MAX]


def skipped_parts(network: str, payload: Any, ignored: list[str], errors: list[str]) -> list[SkippedPart]:
    """Group the notes by the part of `payload` they concern; one SkippedPart per part."""
    parts: dict[tuple[Step, ...], SkippedPart] = {}
    for note, is_error in [(n, False) for n in ignored] + [(n, True) for n in errors]:
        path = note_path(note)
        steps, part = resolve(payload, path)
        rest = note.split(":", 1)[1].strip() if ":" in note and path else ("" if path else note)
        reason = rest or "event type not handled"
        reason = f"did not parse: {reason}" if is_error else f"ignored: {reason}"
        found = parts.get(steps)
        if found is None:
            shown = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps).lstrip(".")
            found = parts[steps] = SkippedPart(shown, steps, part, kind_of(network, steps, part))
        found.reasons.append(reason)
    return list(parts.values())


def bounded(raw: Any) -> Any:
    """`raw` as stored: the part itself, or a description when it is too large to keep."""
    text = json.dumps(raw, ensure_ascii=False, default=str)
    if len(text.encode()) <= MAX_RAW_BYTES:
        return raw
    keys = sorted(raw)[:50] if isinstance(raw, dict) else []
    return {"truncated": True, "bytes": len(text.encode()), "keys": keys}


# -- the database edge -----------------------------------------------------------------------


@dataclass
class IgnoredRow:
    network: str
    kind: str
    reason: str
    raw: Any
    org_id: int | None = None
    account_id: int | None = None
    path: str = ""


def _already_stored(session: Session, row: IgnoredRow) -> int | None:
    recent = repository.recent_ignored(
        session, row.network, row.kind, utcnow() - DEDUPE_WINDOW, row.account_id, row.org_id
    )
    # JSON equality is not portable SQL: compare the few recent rows of this kind in Python.
    return next((found.id for found in recent if found.raw == row.raw), None)


def store(sessions: sessionmaker[Session], rows: list[IgnoredRow]) -> list[int]:
    """Keep each row (a redelivered one maps onto the row we have); never raises.

    Called right after the accepted events are committed: a failure here is logged and the
    webhook still answers 200, because the network would otherwise redeliver the good events.
    """
    if not rows:
        return []
    ids: list[int] = []
    try:
        with transaction(sessions) as session:
            for row in rows:
                row.raw = bounded(storable_raw(row.raw))
                row.kind, row.reason = storable_text(row.kind), storable_text(row.reason)
                if row.org_id is None and row.account_id is not None:
                    account = repository.account(session, row.account_id)
                    row.org_id = account.org_id if account is not None else None
                found = _already_stored(session, row)
                if found is None:
                    event = IgnoredEvent(
                        org_id=row.org_id,
                        account_id=row.account_id,
                        network=row.network[:32],
                        kind=row.kind[:KIND_MAX] or row.network,
                        reason=row.reason[:REASON_MAX],
                        raw=row.raw,
                    )
                    found = repository.add_ignored(session, event)
                ids.append(found)
    except Exception as exc:  # noqa: BLE001 - never fail the webhook over its ignored parts
        # The type only: the message of a database error can quote the raw customer text.
        log.error("could not store %d ignored webhook part(s): %s", len(rows), type(exc).__name__)
        return []
    for row, row_id in zip(rows, ids, strict=True):
        # Kind and path only: the raw part (customer text) stays in the table.
        log.info(
            "webhook %s: ignored %s at %s (account %s), kept as ignored event %s",
            row.network,
            row.kind,
            row.path or "body",
            row.account_id,
            row_id,
        )
    return ids
