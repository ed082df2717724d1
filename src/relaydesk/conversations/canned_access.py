"""Who may change which saved reply: pure, so the role × scope matrix is tested without a database.

Owners and admins change every saved reply. A manager changes the replies limited to her own
departments (every key of `departments` hers, before and after the change): a reply for everyone
(no departments) or shared with another department is an admin's. Like intents, a saved reply has
no location, so a manager whose scope is a part of the organisation reads them and changes none.
Agents read the replies they are offered; viewers write no replies and do not see the page.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from relaydesk.core.enums import Role


@dataclass(frozen=True)
class CannedEditor:
    role: Role
    departments: frozenset[str]  # keys of the departments she belongs to
    regional: bool  # her scope is a subtree of the organisation

    @property
    def everything(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def may_see(self) -> bool:
        return self.role != Role.VIEWER

    @property
    def may_create(self) -> bool:
        return self.everything or (self.role == Role.MANAGER and not self.regional and bool(self.departments))


def refusal(editor: CannedEditor, departments: Collection[str]) -> str | None:
    """Why this person may not hold a saved reply limited to `departments`; None when she may."""
    if editor.everything:
        return None
    if editor.role != Role.MANAGER:
        return "only owners, admins and managers change saved replies"
    if editor.regional:
        return "your scope is part of the organisation, and a saved reply is used everywhere: ask an admin"
    if not departments:
        return "a saved reply for everyone (no departments) is an admin's: limit it to your departments"
    others = sorted(set(departments) - editor.departments)
    if others:
        return (
            "a manager changes only saved replies limited to her own departments "
            f"({', '.join(sorted(editor.departments)) or 'none'}); not {', '.join(others)}"
        )
    return None
