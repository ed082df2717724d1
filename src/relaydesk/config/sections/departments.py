"""`departments:`: the queues conversations are routed to, one of them the default."""

from __future__ import annotations

from typing import Any

from relaydesk.config import repository
from relaydesk.config.check import Checker, unknown
from relaydesk.config.schemas import DepartmentConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter, assign, ref
from relaydesk.models import Agency, Conversation, Department


def check(c: Checker, departments: list[tuple[int, DepartmentConfig]], known_agencies: set[str]) -> None:
    c.duplicates("departments", [(i, d.key) for i, d in departments], "department key")
    for index, department in departments:
        if department.agency is not None and department.agency not in known_agencies:
            c.problem(("departments", index, "agency"), unknown("agency", department.agency, known_agencies))
    defaults = [(index, d) for index, d in departments if d.default]
    if len(defaults) > 1:
        first_key = defaults[0][1].key
        for index, _department in defaults[1:]:
            c.problem(
                ("departments", index, "default"),
                f"only one department can be the default ({first_key!r} already is)",
            )
    raw_departments = c.raw.get("departments")
    if departments and not defaults and raw_departments:
        c.warn(
            ("departments",),
            f"no department has 'default: true': {departments[0][1].key!r}, the first, becomes it",
        )
    if not raw_departments:
        c.warn(("departments",), "no departments declared: nothing can be routed")


def apply(u: Upserter, agencies: dict[str, Agency]) -> dict[str, Department]:
    default = u.config.default_department()
    existing = u.rows(Department, "key")
    if not u.mentions("departments"):
        return existing
    kept: dict[str, Department] = {}
    for spec in u.config.departments:
        values = {
            "key": spec.key,
            "name": spec.name,
            "is_default": default is not None and spec.key == default.key,
            "assignment": spec.assignment,
            "agency_id": ref(agencies, spec.agency, "agency").id if spec.agency else None,
            "spokesperson": spec.spokesperson,
        }
        kept[spec.key] = u.upsert("departments", existing.pop(spec.key, None), Department, values)
    u.session.flush()
    used = repository.used_ids(u.session, Conversation.department_id, (row.id for row in existing.values()))
    for row in existing.values():
        if row.id in used:
            u.summary.warnings.append(
                f"department {row.key!r} is no longer in the file but conversations use it: kept"
            )
            if assign(row, {"is_default": False}):
                u.mark("departments", row)
            continue
        u.remove("departments", row)
    u.session.flush()
    return kept


def export(departments: list[Department], agency_key: dict[int, str]) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "key": d.key,
                "name": d.name,
                "default": d.is_default,
                "assignment": d.assignment,
                "agency": agency_key.get(d.agency_id) if d.agency_id else None,
                "spokesperson": d.spokesperson,
            },
            {"default": False, "assignment": "least_loaded", "agency": None, "spokesperson": False},
        )
        for d in departments
    ]
