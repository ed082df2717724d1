"""`sla_policies:`: response and resolution targets, scoped by department, priority and channel."""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import Path_
from relaydesk.config.schemas import SlaPolicyConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter
from relaydesk.models import SlaPolicy


def check(
    c: Checker,
    policies: list[tuple[int, SlaPolicyConfig]],
    known_departments: set[str],
    known_hours: set[str],
) -> None:
    c.duplicates("sla_policies", [(i, p.name) for i, p in policies], "policy name", "name")
    scopes: dict[tuple[str | None, str | None, str | None], str] = {}
    for index, policy in policies:
        base: Path_ = ("sla_policies", index)
        if policy.department is not None and policy.department not in known_departments:
            c.problem((*base, "department"), unknown("department", policy.department, known_departments))
        if policy.business_hours is not None and policy.business_hours not in known_hours:
            c.problem(
                (*base, "business_hours"), unknown("business hours", policy.business_hours, known_hours)
            )
        if policy.business_hours is not None and policy.around_the_clock:
            c.warn((*base, "business_hours"), "ignored: the policy runs around the clock")
        for later, earlier in (
            ("next_response_minutes", "first_response_minutes"),
            ("resolution_minutes", "first_response_minutes"),
        ):
            value = getattr(policy, later)
            if value is not None and value < getattr(policy, earlier):
                c.warn((*base, later), f"shorter than {earlier}")
        scope = (
            policy.department,
            policy.priority.value if policy.priority else None,
            policy.channel.value if policy.channel else None,
        )
        if scope in scopes:
            c.problem(
                (*base, "name"),
                f"policy {scopes[scope]!r} already covers the same department, priority and channel",
            )
        else:
            scopes[scope] = policy.name
    if policies and (None, None, None) not in scopes:
        c.warn(
            ("sla_policies",),
            "no catch-all policy (no department, priority or channel): some conversations will have no SLA",
        )


def apply(u: Upserter) -> None:
    desired = [
        {
            "name": p.name,
            "department_key": p.department,
            "priority": p.priority.value if p.priority else None,
            "channel": p.channel.value if p.channel else None,
            "first_response_minutes": p.first_response_minutes,
            "next_response_minutes": p.next_response_minutes,
            "resolution_minutes": p.resolution_minutes,
            "business_hours_key": p.business_hours,
            "around_the_clock": p.around_the_clock,
            "warn_before_minutes": p.warn_before_minutes,
        }
        for p in u.config.sla_policies
    ]
    u.sync_simple("sla_policies", SlaPolicy, "name", desired)


def export(policies: list[SlaPolicy]) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "name": p.name,
                "first_response_minutes": p.first_response_minutes,
                "next_response_minutes": p.next_response_minutes,
                "resolution_minutes": p.resolution_minutes,
                "department": p.department_key,
                "priority": p.priority,
                "channel": p.channel,
                "business_hours": p.business_hours_key,
                "around_the_clock": p.around_the_clock,
                "warn_before_minutes": p.warn_before_minutes,
            },
            {
                "warn_before_minutes": 15,
                "next_response_minutes": None,
                "resolution_minutes": None,
                "department": None,
                "priority": None,
                "channel": None,
                "business_hours": None,
                "around_the_clock": False,
            },
        )
        for p in policies
    ]
