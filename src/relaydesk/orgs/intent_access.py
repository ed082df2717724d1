"""Who may change which intent: pure, so the whole role × scope matrix is tested without a database.

Owners and admins change every intent. A manager changes the intents that send conversations to
her own departments (the intent's `department`), before and after the change, so she can neither
take another department's intent nor hand hers to one. An intent has no location: its examples
change what triage reads in every message of the organisation, so a manager whose scope is a part
of it (a region, a franchisee) reads intents and changes none. An intent without a department
(one only rules route) is the whole organisation's, so it is an admin's. Agents and viewers do not
see the page: the examples are configuration, not something they act on.
"""

from __future__ import annotations

from dataclasses import dataclass

from relaydesk.core.enums import Role


@dataclass(frozen=True)
class IntentEditor:
    role: Role
    departments: frozenset[str]  # keys of the departments she belongs to
    regional: bool  # her scope is a subtree of the organisation

    @property
    def everything(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def may_see(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN, Role.MANAGER)

    @property
    def may_create(self) -> bool:
        return self.everything or (self.role == Role.MANAGER and not self.regional and bool(self.departments))


def refusal(editor: IntentEditor, department: str | None) -> str | None:
    """Why this person may not hold an intent sending conversations to `department`; None when she may."""
    if editor.everything:
        return None
    if editor.role != Role.MANAGER:
        return "only owners, admins and managers change intents"
    if editor.regional:
        return (
            "your scope is part of the organisation, and an intent's examples change triage "
            "everywhere: ask an admin"
        )
    if department is None or department not in editor.departments:
        return (
            "a manager changes only intents that send conversations to her own departments "
            f"({', '.join(sorted(editor.departments)) or 'none'}); ask an admin for this one"
        )
    return None
