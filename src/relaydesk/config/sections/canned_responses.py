"""`canned_responses:`: saved replies agents insert with `/key`, one text per language."""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import Path_
from relaydesk.config.schemas import CannedResponseConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter
from relaydesk.conversations.variables import VARIABLES, unknown_variables
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
            },
            {"departments": []},
        )
        for r in responses
    ]
