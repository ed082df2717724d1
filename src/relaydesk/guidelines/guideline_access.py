"""Who may do what to the brand's guidelines: pure, so the role × action matrix is tested without a database.

A guideline is the brand's voice, so it is PR's word, like an approved FAQ answer: owners, admins
and the members (any role but viewer) of a spokesperson department create, change and delete them.
Everyone who writes replies reads them and uses the test box, which checks a draft against them
and stores nothing. Viewers write no replies: the page is not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from relaydesk.core.enums import Role


class GuidelineAction(StrEnum):
    VIEW = "view"  # the list, one guideline, the test box
    EDIT = "edit"  # create, change, delete


@dataclass(frozen=True)
class GuidelineEditor:
    role: Role
    spokesperson: bool  # a member of a department marked `spokesperson: true`

    @property
    def may_edit(self) -> bool:
        return refusal(self, GuidelineAction.EDIT) is None


def refusal(editor: GuidelineEditor, action: GuidelineAction) -> str | None:
    """Why `editor` may not do `action`; None when she may."""
    if editor.role == Role.VIEWER:
        return "viewers write no replies: guidelines are not theirs to see or change"
    if action == GuidelineAction.VIEW:
        return None
    if editor.role in (Role.OWNER, Role.ADMIN) or editor.spokesperson:
        return None
    return "only PR (a spokesperson department), admins and owners change the brand's guidelines"
