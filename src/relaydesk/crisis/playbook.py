"""A crisis playbook: what happens when an alert opens. Pure: values, their checks, and which
playbook applies (a brand's own, else the organisation's, else the defaults)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from relaydesk.crisis.triggers import fold

APPROVER_ROLES = ("manager", "admin", "owner")
DEFAULT_APPROVERS = ("manager",)
MAX_PHRASES = 200
_CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_HANDLE = re.compile(r"@[\w.-]{1,64}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class Playbook:
    notify_departments: tuple[str, ...] = ()
    notify_destinations: tuple[str, ...] = ()
    hold_replies: bool = False
    approvers: tuple[str, ...] = DEFAULT_APPROVERS
    holding_statements: Mapping[str, str] = field(default_factory=dict)
    triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def of_row(row: Any) -> Playbook:
    """A stored playbook row (models.CrisisPlaybook) as values."""
    return Playbook(
        notify_departments=tuple(str(d) for d in row.notify_departments or []),
        notify_destinations=tuple(str(d) for d in row.notify_destinations or []),
        hold_replies=bool(row.hold_replies),
        approvers=tuple(str(a) for a in row.approvers or []) or DEFAULT_APPROVERS,
        holding_statements={str(k): str(v) for k, v in (row.holding_statements or {}).items()},
        triggers={str(k): tuple(str(p) for p in v) for k, v in (row.triggers or {}).items()},
    )


def applying(playbooks: Mapping[int | None, Playbook], brand_id: int | None) -> Playbook:
    """The brand's own playbook, else the organisation's (key None), else the defaults."""
    if brand_id is not None and brand_id in playbooks:
        return playbooks[brand_id]
    return playbooks.get(None, Playbook())


def all_triggers(playbooks: Iterable[Playbook]) -> dict[str, list[str]]:
    """Every playbook's own phrases by category, for one organisation's matcher."""
    out: dict[str, list[str]] = {}
    for playbook in playbooks:
        for category, phrases in playbook.triggers.items():
            out.setdefault(category, []).extend(p for p in phrases if p not in out[category])
    return out


def problems(
    approvers: Iterable[str], triggers: Mapping[str, Iterable[str]], statements: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(field, what is wrong) for values a person typed; empty when they may be saved."""
    found: list[tuple[str, str]] = []
    for approver in approvers:
        if approver not in APPROVER_ROLES and not _HANDLE.fullmatch(approver):
            found.append(("approvers", f"'{approver}' is neither manager, admin, owner nor an @handle"))
    count = 0
    for category, phrases in triggers.items():
        if not _CATEGORY.fullmatch(category):
            found.append(("triggers", f"'{category}': a category is lowercase letters, digits and _"))
        for phrase in phrases:
            count += 1
            if not phrase.strip() or len(phrase) > 100:
                found.append(("triggers", f"{category}: a phrase has 1 to 100 characters"))
            elif not any(ch.isalnum() for ch in fold(phrase)):
                # marks only (a tatweel, a joiner) would match every message
                found.append(("triggers", f"{category}: a phrase needs letters"))
    if count > MAX_PHRASES:
        found.append(("triggers", f"at most {MAX_PHRASES} phrases"))
    for language, text in statements.items():
        if not _LANGUAGE.fullmatch(language):
            found.append(("holding_statements", f"'{language}' is not a language code"))
        if len(text) > 5000:
            found.append(("holding_statements", f"{language}: at most 5,000 characters"))
    return found


def parse_trigger_lines(text: str) -> dict[str, list[str]]:
    """`category: phrase` per line (the settings page's box) -> {category: [phrases]}."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        category, sep, phrase = line.partition(":")
        if not sep:
            if line.strip():
                out.setdefault("?", []).append(line.strip())
            continue
        out.setdefault(category.strip().lower(), []).append(phrase.strip())
    return out


def trigger_lines(triggers: Mapping[str, Iterable[str]]) -> str:
    return "\n".join(f"{category}: {phrase}" for category, phrases in triggers.items() for phrase in phrases)
