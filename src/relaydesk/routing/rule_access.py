"""Who may change which routing rule: pure, so the whole matrix is tested without a database.

Owners and admins change every rule and the order. A manager changes the rules that send work to
her own departments (the rule's `then.department`), and if her scope is a part of the
organisation, only rules limited (`when.location`) to places inside it: a rule of hers must not
reach conversations she cannot see. The order of the list decides which rule wins for every
department, so only owners and admins move rules; a manager's new rule goes last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relaydesk.core.enums import Role


@dataclass(frozen=True)
class RuleEditor:
    role: Role
    departments: frozenset[str]  # keys of the departments she belongs to
    # Keys of the locations of her subtree; None = the whole organisation.
    locations: frozenset[str] | None

    @property
    def everything(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def may_reorder(self) -> bool:
        return self.everything


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def refusal(editor: RuleEditor, when: Mapping[str, Any], then: Mapping[str, Any]) -> str | None:
    """Why this person may not hold a rule like this; None when she may."""
    if editor.everything:
        return None
    if editor.role != Role.MANAGER:
        return "only owners, admins and managers change routing rules"
    department = then.get("department")
    if not isinstance(department, str) or department not in editor.departments:
        return (
            "a manager changes only rules that send conversations to her own departments "
            f"({', '.join(sorted(editor.departments)) or 'none'}); ask an admin for this one"
        )
    if editor.locations is not None:
        places = _listed(when.get("location"))
        if not places or any(p not in editor.locations for p in places):
            return (
                "your scope is part of the organisation: the rule must be limited (location) to "
                "places inside it"
            )
    return None
