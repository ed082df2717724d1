"""Who may do what to SLA policies and agency contracts: pure, so the matrix is tested without a database.

A policy's clock decides when every matching conversation is late, in every department that has
no policy of its own (the catch-all), and an agency's contract is what the brand pays it for: both
are promises of the whole organisation, so owners and admins change them. Managers read them (the
clocks their people work against); agents and viewers do not see the page.
"""

from __future__ import annotations

from enum import StrEnum

from relaydesk.core.enums import Role


class SlaAction(StrEnum):
    VIEW = "view"
    EDIT = "edit"  # create, change, delete a policy; change an agency's contract


def refusal(role: Role, action: SlaAction) -> str | None:
    """Why someone of `role` may not do `action`; None when she may."""
    if role in (Role.OWNER, Role.ADMIN):
        return None
    if role == Role.MANAGER:
        if action == SlaAction.VIEW:
            return None
        return (
            "SLA policies and agency contracts are the organisation's promises: owners and admins change them"
        )
    return "SLA policies are for managers, admins and owners"
