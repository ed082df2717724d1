"""What routing reads for one conversation and the decision (with its trace) it hands back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relaydesk.core.enums import (
    Priority,
)


@dataclass
class RouteInput:
    """Everything routing may look at for one conversation, already triaged.

    `location_keys` holds the conversation's location and all its ancestors (brand, region...).
    `contact` keys read by rules: ``vip`` (bool), ``followers``, ``open_conversations``,
    ``purchases`` (ints) and ``attributes`` (a mapping); missing keys count as false / 0.
    `at` is UTC (a naive value is taken as UTC); `timezone` is the location's IANA zone.
    """

    channel: str
    account_key: str | None
    location_keys: list[str]
    language: str | None
    intent: str | None
    intent_department: str | None
    sentiment: str
    stage: str
    urgency: str
    text: str
    contact: dict[str, Any]
    at: datetime
    timezone: str
    default_department: str
    priority: str = "normal"
    # The purchase stage's department (see routing.stage); tried after the intent's.
    stage_department: str | None = None
    # Triage's signals, whatever the organisation's intents (see triage.base.SIGNALS).
    spam: bool = False
    crisis: bool = False
    complaint: bool = False


@dataclass
class RuleTrace:
    rule: str
    matched: bool
    checks: list[str]
    effects: list[str] = field(default_factory=list)


@dataclass
class RouteDecision:
    department: str
    priority: str = Priority.NORMAL.value
    tags: list[str] = field(default_factory=list)
    assignee: str | None = None
    team: str | None = None
    require_approval: bool = False
    # Who may approve held replies: roles ("manager") and "@handles"; empty = the managers.
    approvers: list[str] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)
    matched_rules: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    trace: list[RuleTrace] = field(default_factory=list)
    # "rule:<name>", "intent", "stage" or "default": lets reports count how routing happened.
    department_source: str = "default"
    stopped_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "priority": self.priority,
            "tags": list(self.tags),
            "assignee": self.assignee,
            "team": self.team,
            "require_approval": self.require_approval,
            "approvers": list(self.approvers),
            "notify": list(self.notify),
            "matched_rules": list(self.matched_rules),
            "reasons": list(self.reasons),
            "department_source": self.department_source,
            "stopped_by": self.stopped_by,
            "trace": [
                {"rule": t.rule, "matched": t.matched, "checks": list(t.checks), "effects": list(t.effects)}
                for t in self.trace
            ],
        }
