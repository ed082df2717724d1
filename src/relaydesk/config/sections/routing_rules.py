"""`routing_rules:`: the ordered when/then rules, checked by the routing slice's own compiler."""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker, not_in_vocabulary, split_path
from relaydesk.config.schemas import AgentConfig, RoutingRuleConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter
from relaydesk.core.enums import ORG_WIDE_ROLES
from relaydesk.models import RoutingRule
from relaydesk.routing.rules import validate_rules


def check(
    c: Checker,
    rules: list[tuple[int, RoutingRuleConfig]],
    known_departments: set[str],
    known_agencies: set[str],
    handles: set[str],
    known_intents: set[str],
    vocabulary: set[str],
) -> None:
    c.duplicates("routing_rules", [(i, r.name) for i, r in rules], "rule name", "name")
    raw = [rule.model_dump(mode="json") for _, rule in rules]
    for found in validate_rules(
        raw,
        frozenset(known_departments),
        agencies=frozenset(known_agencies),
        handles=frozenset(handles),
        intents=frozenset(known_intents),
    ):
        position = found.index
        if not 0 <= position < len(rules):
            c.problem(("routing_rules",), found.message)
            continue
        if found.message.startswith("duplicate rule name"):
            continue  # already reported with the file's own numbering
        c.problem(("routing_rules", rules[position][0], *split_path(found.field)), found.message)
    if vocabulary >= known_intents:
        return
    for found in validate_rules(raw, frozenset(known_departments), intents=frozenset(vocabulary)):
        position = found.index
        message = found.message
        name = message.split("'")[1] if message.startswith("unknown intent '") else None
        if 0 <= position < len(rules) and name is not None and name in known_intents:
            c.warn(("routing_rules", rules[position][0], *split_path(found.field)), not_in_vocabulary(name))


def check_approvers(
    c: Checker, rules: list[tuple[int, RoutingRuleConfig]], agents: list[tuple[int, AgentConfig]]
) -> None:
    """A person named to approve who cannot see the rule's conversations could never approve."""
    people = {agent.handle: agent for _, agent in agents}
    for index, rule in rules:
        department = rule.then.get("department")
        approvers = rule.then.get("approvers")
        if not isinstance(department, str) or not isinstance(approvers, list):
            continue
        for j, approver in enumerate(approvers):
            if not isinstance(approver, str) or not approver.startswith("@"):
                continue
            person = people.get(approver[1:].lower())
            if person is None or person.role in ORG_WIDE_ROLES or department in person.departments:
                continue
            c.warn(
                ("routing_rules", index, "then", "approvers", j),
                f"{approver} is not in department {department!r} (nor an owner or admin): "
                "they will not see the replies this rule holds",
            )


def apply(u: Upserter) -> None:
    desired = [
        {
            "name": rule.name,
            "position": position,
            "enabled": rule.enabled,
            "conditions": dict(rule.when),
            "actions": dict(rule.then),
            "stop": rule.stop,
        }
        for position, rule in enumerate(u.config.routing_rules)
    ]
    u.sync_simple("routing_rules", RoutingRule, "name", desired)


def export(rules: list[RoutingRule]) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "name": r.name,
                "when": dict(r.conditions or {}),
                "then": dict(r.actions or {}),
                "stop": r.stop,
                "enabled": r.enabled,
            },
            {"stop": False, "enabled": True},
        )
        for r in rules
    ]
