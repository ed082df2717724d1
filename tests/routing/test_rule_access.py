"""Who may change which routing rule, as a matrix: role x the rule's department x location scope."""

from __future__ import annotations

import pytest

from relaydesk.core.enums import Role
from relaydesk.routing.rule_access import RuleEditor, refusal

SALES_RULE = ({"intent": ["purchase_interest"]}, {"department": "sales"})
PR_RULE = ({"urgency": ["critical"]}, {"department": "pr"})
NO_DEPARTMENT = ({"contact": {"vip": True}}, {"priority": "high"})
NORTH_SALES = ({"location": ["north-shop"]}, {"department": "sales"})
SOUTH_SALES = ({"location": ["south-shop"]}, {"department": "sales"})


def editor(role: Role, departments: set[str] = frozenset(), locations: set[str] | None = None) -> RuleEditor:
    return RuleEditor(
        role=role,
        departments=frozenset(departments),
        locations=frozenset(locations) if locations is not None else None,
    )


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
@pytest.mark.parametrize("rule", [SALES_RULE, PR_RULE, NO_DEPARTMENT, SOUTH_SALES])
def test_owners_and_admins_change_every_rule_and_the_order(role: Role, rule: tuple[dict, dict]) -> None:
    assert refusal(editor(role), *rule) is None
    assert editor(role).may_reorder


@pytest.mark.parametrize(
    ("rule", "allowed"),
    [(SALES_RULE, True), (NORTH_SALES, True), (PR_RULE, False), (NO_DEPARTMENT, False)],
)
def test_a_manager_changes_the_rules_of_her_departments(rule: tuple[dict, dict], allowed: bool) -> None:
    manager = editor(Role.MANAGER, {"sales", "service"})
    assert (refusal(manager, *rule) is None) is allowed
    assert not manager.may_reorder


@pytest.mark.parametrize(
    ("rule", "allowed"),
    [(NORTH_SALES, True), (SALES_RULE, False), (SOUTH_SALES, False), (PR_RULE, False)],
)
def test_a_manager_of_a_region_changes_only_rules_limited_to_it(
    rule: tuple[dict, dict], allowed: bool
) -> None:
    regional = editor(Role.MANAGER, {"sales"}, {"north", "north-shop"})
    assert (refusal(regional, *rule) is None) is allowed


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_change_no_rule(role: Role) -> None:
    assert refusal(editor(role, {"sales"}), *SALES_RULE) is not None
