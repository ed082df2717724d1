"""A compiled rule: its condition and the actions it asks for."""

from __future__ import annotations

from dataclasses import dataclass

from relaydesk.routing.rules.conditions import Condition


@dataclass(frozen=True)
class Actions:
    department: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    assignee: str | None = None
    team: str | None = None
    require_approval: bool = False
    approvers: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition
    then: Actions
    stop: bool = False
    enabled: bool = True
