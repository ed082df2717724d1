"""`intents:`: what triage may answer for this organisation, taught by example phrases."""

from __future__ import annotations

from collections import Counter
from typing import Any

from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import Path_
from relaydesk.config.schemas import IntentConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter
from relaydesk.core.enums import BUILTIN_INTENTS
from relaydesk.models import Intent
from relaydesk.triage.base import vocabulary_names


def vocabulary(intents: list[tuple[int, IntentConfig]]) -> set[str]:
    """The names triage can answer for this org (`triage.base.vocabulary_names`): its own list
    once it teaches any intent by example, else the built-ins. A built-in intent it does not
    list is still a valid name, but a rule or remit using it never matches: a warning."""
    return set(vocabulary_names([(t.name, bool(t.examples)) for _, t in intents], BUILTIN_INTENTS))


def check(c: Checker, intents: list[tuple[int, IntentConfig]], known_departments: set[str]) -> None:
    c.duplicates("intents", [(i, t.name) for i, t in intents], "intent name", "name")
    for index, intent in intents:
        base: Path_ = ("intents", index)
        if intent.department is not None and intent.department not in known_departments:
            c.problem((*base, "department"), unknown("department", intent.department, known_departments))
        # A built-in intent may be listed only to send it to a department; a new one must be
        # taught by example, or triage can never predict it.
        if not intent.examples and intent.name not in BUILTIN_INTENTS:
            c.problem((*base, "examples"), f"intent {intent.name!r} needs at least one example phrase")
        for example, count in Counter(e.casefold() for e in intent.examples).items():
            if count > 1:
                c.warn((*base, "examples"), f"example {example!r} is listed {count} times")


def apply(u: Upserter) -> None:
    desired = [
        {"name": i.name, "department_key": i.department, "examples": list(i.examples)}
        for i in u.config.intents
    ]
    u.sync_simple("intents", Intent, "name", desired)


def export(intents: list[Intent]) -> list[dict[str, Any]]:
    return [
        compact(
            {"name": i.name, "department": i.department_key, "examples": list(i.examples or [])},
            {"department": None},
        )
        for i in intents
    ]
