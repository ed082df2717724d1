"""A routing decision told as text, for the CLI and the audit view."""

from __future__ import annotations

from relaydesk.routing.rules.records import RouteDecision
from relaydesk.routing.rules.vocabulary import mark


def explain(decision: RouteDecision) -> str:
    """A multi-line account of a decision for `relaydesk route --explain` and the audit view."""
    lines = [f"Department: {decision.department}  (from {decision.department_source})"]
    lines.append(f"Priority:   {decision.priority}")
    if decision.assignee:
        lines.append(f"Assignee:   @{decision.assignee}")
    if decision.team:
        lines.append(f"Team:       {decision.team}")
    if decision.tags:
        lines.append(f"Tags:       {', '.join(decision.tags)}")
    if decision.notify:
        lines.append(f"Notify:     {', '.join(decision.notify)}")
    approval = "not required"
    if decision.require_approval:
        approval = "required" + (f" (by {', '.join(decision.approvers)})" if decision.approvers else "")
    lines.append(f"Approval:   {approval}")
    lines.append("Why:")
    lines.extend(f"  - {reason}" for reason in decision.reasons)
    if decision.trace:
        lines.append("Rules, in order:")
    for trace in decision.trace:
        lines.append(f"  {mark(trace.matched)} {trace.rule}")
        lines.extend(f"      {check}" for check in trace.checks)
        lines.extend(f"      => {effect}" for effect in trace.effects)
    return "\n".join(lines)
