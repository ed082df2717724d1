"""Running compiled rules over one triaged conversation."""

from __future__ import annotations

from collections.abc import Sequence

from relaydesk.core.enums import (
    PRIORITY_ORDER,
    SPAM,
    Priority,
)
from relaydesk.routing.rules.conditions import Context
from relaydesk.routing.rules.records import RouteDecision, RouteInput, RuleTrace
from relaydesk.routing.rules.rule import Rule
from relaydesk.routing.rules.vocabulary import PRIORITY_RANK


def _because(facts: list[str], rule: str) -> str:
    if not facts:
        return f"by rule '{rule}' (it matches every message)"
    return f"because {' and '.join(dict.fromkeys(facts))}, rule '{rule}'"


def _priority_rank(value: str | None) -> int:
    normal = PRIORITY_RANK[Priority.NORMAL]
    return PRIORITY_RANK.get(str(value).lower(), normal) if value else normal


def evaluate(rules: Sequence[Rule], inp: RouteInput) -> RouteDecision:
    """Run the rules in order over one triaged conversation; never raises on odd input."""
    ctx = Context(inp)
    decision = RouteDecision(department="", priority=PRIORITY_ORDER[_priority_rank(inp.priority)].value)
    department_rule: str | None = None
    assignee_rule: str | None = None
    team_rule: str | None = None

    for rule in rules:
        if decision.stopped_by is not None:
            note = f"not evaluated: rule '{decision.stopped_by}' stopped evaluation"
            decision.trace.append(RuleTrace(rule.name, False, [note]))
            continue
        if not rule.enabled:
            decision.trace.append(RuleTrace(rule.name, False, ["disabled"]))
            continue
        result = rule.when.check(ctx)
        trace = RuleTrace(rule.name, result.ok, result.lines)
        decision.trace.append(trace)
        if not result.ok:
            continue
        decision.matched_rules.append(rule.name)
        because = _because(result.facts, rule.name)
        then = rule.then

        if then.department is not None:
            if department_rule is None:
                department_rule = rule.name
                decision.department = then.department
                decision.department_source = f"rule:{rule.name}"
                decision.reasons.append(f"routed to {then.department} {because}")
                trace.effects.append(f"department → {then.department}")
            else:
                trace.effects.append(
                    f"department {then.department} ignored: rule '{department_rule}' already chose "
                    f"{decision.department}"
                )
        if then.priority is not None:
            if _priority_rank(then.priority) > _priority_rank(decision.priority):
                decision.priority = then.priority
                decision.reasons.append(f"priority raised to {then.priority} {because}")
                trace.effects.append(f"priority → {then.priority}")
            else:
                trace.effects.append(
                    f"priority {then.priority} kept at {decision.priority} (already as high)"
                )
        new_tags = [t for t in then.tags if t not in decision.tags]
        if new_tags:
            decision.tags.extend(new_tags)
            decision.reasons.append(f"tagged {', '.join(new_tags)} {because}")
            trace.effects.append("tags + " + ", ".join(new_tags))
        if then.assignee is not None:
            if assignee_rule is None:
                assignee_rule = rule.name
                decision.assignee = then.assignee
                decision.reasons.append(f"assigned to @{then.assignee} {because}")
                trace.effects.append(f"assignee → @{then.assignee}")
            else:
                trace.effects.append(
                    f"assignee @{then.assignee} ignored: rule '{assignee_rule}' already chose one"
                )
        if then.team is not None:
            if team_rule is None:
                team_rule = rule.name
                decision.team = then.team
                decision.reasons.append(f"handed to team {then.team} {because}")
                trace.effects.append(f"team → {then.team}")
            else:
                trace.effects.append(f"team {then.team} ignored: rule '{team_rule}' already chose one")
        if then.require_approval:
            if not decision.require_approval:
                decision.reasons.append(f"replies need approval {because}")
            decision.require_approval = True
            new_approvers = [a for a in then.approvers if a not in decision.approvers]
            decision.approvers.extend(new_approvers)
            trace.effects.append(
                "require approval" + (f" by {', '.join(new_approvers)}" if new_approvers else "")
            )
        new_notify = [n for n in then.notify if n not in decision.notify]
        if new_notify:
            decision.notify.extend(new_notify)
            decision.reasons.append(f"notify {', '.join(new_notify)} {because}")
            trace.effects.append("notify + " + ", ".join(new_notify))
        if rule.stop:
            decision.stopped_by = rule.name
            decision.reasons.append(f"rule '{rule.name}' stops evaluation; later rules were not checked")
            trace.effects.append("stop")

    if (inp.spam or inp.intent == SPAM) and department_rule is None and assignee_rule is None:
        # Likely spam would otherwise take an agent's place and run an SLA clock nobody should
        # meet. It stays visible in the default queue, tagged, so a person can overrule the model
        # (correcting the intent puts it back into assignment and the clocks).
        if SPAM not in decision.tags:
            decision.tags.append(SPAM)
        if decision.priority == inp.priority == Priority.NORMAL.value:
            decision.priority = Priority.LOW.value
        decision.reasons.append(
            f"{'intent=spam' if inp.intent == SPAM else 'spam signal'}: tagged spam, kept out of"
            " automatic assignment and SLA clocks (correct the intent if it is not spam)"
        )
    if department_rule is None:
        if inp.intent_department:
            decision.department = inp.intent_department
            decision.department_source = "intent"
            decision.reasons.insert(
                0,
                f"routed to {inp.intent_department} because intent={inp.intent} maps to department "
                f"{inp.intent_department}",
            )
        elif inp.stage_department:
            decision.department = inp.stage_department
            decision.department_source = "stage"
            decision.reasons.insert(
                0,
                f"routed to {inp.stage_department} because stage={inp.stage} maps to department "
                f"{inp.stage_department}",
            )
        else:
            decision.department = inp.default_department
            decision.department_source = "default"
            why = "no rule matched" if not decision.matched_rules else "no matching rule set a department"
            decision.reasons.insert(0, f"routed to {inp.default_department}: {why}; default department")
    return decision
