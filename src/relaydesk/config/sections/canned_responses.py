"""`canned_responses:`: saved replies agents insert with `/key`, one text per language."""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import Path_
from relaydesk.config.schemas import CannedResponseConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter
from relaydesk.conversations.tag_rules import clean_tag
from relaydesk.conversations.variables import VARIABLES, unknown_variables
from relaydesk.core.errors import UserError
from relaydesk.models import CannedResponse


def check(c: Checker, responses: list[tuple[int, CannedResponseConfig]], known_departments: set[str]) -> None:
    c.duplicates("canned_responses", [(i, r.key) for i, r in responses], "saved reply key")
    allowed = ", ".join(f"{{{name}}}" for name in VARIABLES)
    for index, response in responses:
        base: Path_ = ("canned_responses", index)
        for position, department in enumerate(response.departments):
            if department not in known_departments:
                c.problem(
                    (*base, "departments", position), unknown("department", department, known_departments)
                )
        transfer = response.actions.transfer
        if transfer is not None and response.actions.status is not None:
            # Resolved then handed off, or handed off then resolved by someone outside the team:
            # neither is what a person means, so a macro does one or the other.
            c.problem(
                (*base, "actions"), "a macro either changes the status or hands off (transfer), not both"
            )
        if transfer is not None and transfer not in known_departments:
            c.problem((*base, "actions", "transfer"), unknown("department", transfer, known_departments))
        for position, tag in enumerate(response.actions.tags):
            try:
                clean_tag(tag)
            except UserError as exc:
                c.problem((*base, "actions", "tags", position), str(exc).removeprefix("tag: "))
        for language, text in response.texts.items():
            for variable in unknown_variables(text):
                c.problem(
                    (*base, "texts", language),
                    f"unknown variable {{{variable.name}}} at character {variable.offset + 1} "
                    f"(allowed: {allowed})",
                )


def apply(u: Upserter) -> None:
    desired = [
        {
            "key": r.key,
            "title": r.title,
            "texts": dict(r.texts),
            "department_keys": list(r.departments),
            "actions": r.actions.model_dump(mode="json", exclude_defaults=True),
        }
        for r in u.config.canned_responses
    ]
    u.sync_simple("canned_responses", CannedResponse, "key", desired)


def export(responses: list[CannedResponse]) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "key": r.key,
                "title": r.title,
                "texts": dict(r.texts or {}),
                "departments": list(r.department_keys or []),
                "actions": dict(r.actions or {}),
            },
            {"departments": [], "actions": {}},
        )
        for r in responses
    ]
