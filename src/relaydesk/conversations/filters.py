"""The values each inbox filter accepts (pure).

A value outside a filter's vocabulary is refused with the values that would work: a typo such
as `status=opne` must not answer "no conversations", which reads as an empty inbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from relaydesk.core.enums import ConversationStatus, Priority, Sentiment
from relaydesk.core.errors import Refused

STATUS_ALL = "all"  # every status, as the inbox's "all" choice
STATUSES: tuple[str, ...] = tuple(s.value for s in ConversationStatus)
SENTIMENTS: tuple[str, ...] = tuple(s.value for s in Sentiment)
PRIORITIES: tuple[str, ...] = tuple(p.value for p in Priority)
SLA_STATES: tuple[str, ...] = ("ok", "warning", "breached", "none")
ASSIGNEE_WORDS: tuple[str, ...] = ("me", "none")


class InvalidFilter(Refused):
    """A filter value outside its vocabulary (422, naming the allowed values)."""


def _one_of(name: str, value: str, allowed: Sequence[str]) -> str | None:
    if value in allowed:
        return None
    return f"{name}: {value!r} is not one of {', '.join(allowed)}"


def filter_problems(
    *,
    status: Iterable[str] | None = None,
    sentiment: str | None = None,
    priority: str | None = None,
    sla: str | None = None,
    assignee: str | None = None,
) -> list[str]:
    """Every filter value that names nothing, each with the values allowed instead."""
    problems = [
        problem
        for problem in (
            *(_one_of("status", s, (*STATUSES, STATUS_ALL)) for s in status or ()),
            _one_of("sentiment", sentiment, SENTIMENTS) if sentiment else None,
            _one_of("priority", priority, PRIORITIES) if priority else None,
            _one_of("sla", sla, SLA_STATES) if sla else None,
        )
        if problem
    ]
    if assignee and assignee not in ASSIGNEE_WORDS and not (assignee.isascii() and assignee.isdigit()):
        problems.append(f"assignee: {assignee!r} is not a user id, 'me' or 'none'")
    return problems


def effective_statuses(status: Sequence[str] | None) -> list[str] | None:
    """The statuses to match; None (no condition) when none are given or "all" is one of them."""
    if not status or STATUS_ALL in status:
        return None
    return list(status)


def unknown_key(name: str, value: str, known: Sequence[str], *, show: int = 30) -> str:
    """`department: no department 'x' in this organisation (known: a, b)`; long lists are not shown."""
    message = f"{name}: no {name} {value!r} in this organisation"
    if 0 < len(known) <= show:
        message += f" (known: {', '.join(known)})"
    return message


@dataclass
class ConversationFilters:
    status: list[str] | None = None
    department: str | None = None
    assignee: str | None = None  # user id, "me" or "none"
    language: str | None = None
    sentiment: str | None = None
    intent: str | None = None
    account: str | None = None
    location: str | None = None  # location key: its whole subtree
    sla: str | None = None  # ok|warning|breached|none
    q: str | None = None
    priority: str | None = None
    sort: str | None = None  # conversations/sorting.py; None: newest activity first
    tag: str | None = None  # conversations carrying this tag (case ignored for ASCII letters)
    # From a report's drill-down: the same conversations the number counted.
    network: str | None = None
    stage: str | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    without_tag: str | None = None  # e.g. "spam": reports leave spam out
    answered: str | None = None  # "yes": has a first response, "no": has none
