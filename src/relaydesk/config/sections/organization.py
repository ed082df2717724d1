"""`organization:`: the organisation itself (key, name, time zone, stage departments)."""

from __future__ import annotations

from typing import Any

from relaydesk.config import repository
from relaydesk.config.check import Checker
from relaydesk.config.schemas import OrganizationConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter, assign
from relaydesk.models import Organization
from relaydesk.routing.stage import validate_stage_mapping


def check(c: Checker, organization: OrganizationConfig | None, known_departments: set[str]) -> None:
    if organization is None:
        return
    for stage_key, department in organization.stage_departments.items():
        for problem in validate_stage_mapping({stage_key: department}, known_departments):
            c.problem(("organization", "stage_departments", stage_key), problem)


def apply(u: Upserter) -> None:
    spec = u.config.organization
    values = {
        "name": spec.name,
        "default_timezone": spec.timezone,
        "reopen_window_hours": spec.reopen_window_hours,
        "stage_departments": dict(spec.stage_departments) or None,
    }
    org = repository.organization_by_key(u.session, spec.key)
    if org is None:
        org = Organization(key=spec.key, **values)
        u.session.add(org)
        u.session.flush()
        u.mark("organization", org, created=True)
    elif assign(org, values):
        u.mark("organization", org)
    u.org = org


def export(org: Organization) -> dict[str, Any]:
    return compact(
        {
            "key": org.key,
            "name": org.name,
            "timezone": org.default_timezone,
            "reopen_window_hours": org.reopen_window_hours,
            "stage_departments": dict(org.stage_departments or {}),
        },
        {"stage_departments": {}},
    )
