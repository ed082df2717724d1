"""The words a rule may use (its fields, days, orders) and how traces print values."""

from __future__ import annotations

from collections.abc import Sequence

from relaydesk.core.enums import (
    PRIORITY_ORDER,
    Urgency,
)
from relaydesk.triage.base import SIGNALS

RULE_FIELDS = frozenset({"name", "when", "then", "stop", "enabled", "description"})
WHEN_FIELDS = frozenset(
    {
        "channel",
        "account",
        "location",
        "language",
        "intent",
        "sentiment",
        "stage",
        "urgency",
        "urgency_at_least",
        "keywords",
        "contact",
        "time",
        "not",
        "any",
        *SIGNALS,  # spam / crisis / complaint: true|false
    }
)
THEN_FIELDS = frozenset(
    {"department", "priority", "tags", "assignee", "team", "require_approval", "approvers", "notify"}
)
CONTACT_FIELDS = frozenset(
    {"vip", "followers_at_least", "open_conversations_at_least", "purchases_at_least", "attributes"}
)
TIME_FIELDS = frozenset({"days", "between"})
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
URGENCY_ORDER: tuple[str, ...] = (Urgency.LOW, Urgency.NORMAL, Urgency.HIGH, Urgency.CRITICAL)
PRIORITY_RANK: dict[str, int] = {p.value: i for i, p in enumerate(PRIORITY_ORDER)}


OK, FAIL = "✓", "✗"


def show(value: object) -> str:
    return "null" if value is None else str(value)


def show_list(values: Sequence[object]) -> str:
    return "[" + ", ".join(show(v) for v in values) + "]"


def mark(ok: bool) -> str:
    return OK if ok else FAIL
