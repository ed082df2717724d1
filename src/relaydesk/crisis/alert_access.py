"""Who may do what with crisis alerts. Pure: a role and whether the person speaks for the brand.

Everyone but viewers sees the alerts of their places (an agent must know to hold back); owners,
admins, managers and the spokesperson departments acknowledge, escalate and resolve; the
holding statement is the spokesperson's (and the owners' and admins'), as the brief asks that
the company speak through one voice.
"""

from __future__ import annotations

from enum import StrEnum

from relaydesk.core.enums import Role


class AlertAction(StrEnum):
    VIEW = "view"
    HANDLE = "handle"  # acknowledge, escalate, resolve, reopen
    STATEMENT = "statement"


def refusal(role: Role, spokesperson: bool, action: AlertAction) -> str | None:
    """Why the person may not, or None when they may."""
    if action is AlertAction.VIEW:
        return None if role != Role.VIEWER else "viewers do not see crisis alerts"
    if role in (Role.OWNER, Role.ADMIN) or spokesperson:
        return None
    if action is AlertAction.HANDLE and role == Role.MANAGER:
        return None
    if action is AlertAction.STATEMENT:
        return "the holding statement is written by PR (the spokesperson), admins and owners"
    return "alerts are handled by managers, PR, admins and owners"
