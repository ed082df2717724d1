"""Who may do what to FAQ entries: pure, so the whole role × action matrix is tested without a database.

An approved answer is something the brand says in public, so it is PR's word: owners, admins and
the members (any role) of a spokesperson department approve, retire, put back to draft and delete.
Everyone else who writes replies (managers and agents of other departments) may propose: create
drafts and edit drafts, never an approved or retired entry. An edit to the text of an approved
entry, by anyone, puts it back to draft, so an approved answer never changes without approval.
Viewers do nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from relaydesk.core.enums import Role


class FaqAction(StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    APPROVE = "approve"
    DRAFT = "draft"  # back to draft
    RETIRE = "retire"
    DELETE = "delete"


@dataclass(frozen=True)
class FaqEditor:
    role: Role
    # A member of a department marked `spokesperson: true`.
    spokesperson: bool

    @property
    def approver(self) -> bool:
        if self.role == Role.VIEWER:
            return False
        return self.role in (Role.OWNER, Role.ADMIN) or self.spokesperson


def refusal(editor: FaqEditor, action: FaqAction, status: str | None = None) -> str | None:
    """Why `editor` may not do `action` to an entry in `status` (None: a new one); None when she may."""
    if editor.role == Role.VIEWER:
        return "viewers cannot see or change FAQ entries"
    if editor.approver or action in (FaqAction.VIEW, FaqAction.CREATE):
        return None
    if action == FaqAction.EDIT:
        if status in (None, "draft"):
            return None
        return "only PR (a spokesperson department), admins and owners change an approved or retired entry"
    return "only PR (a spokesperson department), admins and owners approve, retire or delete FAQ entries"


def allowed(editor: FaqEditor, action: FaqAction, status: str | None = None) -> bool:
    return refusal(editor, action, status) is None


def status_after_edit(status: str, text_changed: bool) -> str:
    """An approved entry whose text changed waits for approval again; other changes keep the status."""
    if text_changed and status == "approved":
        return "draft"
    return status


def transitions(editor: FaqEditor, status: str) -> list[FaqAction]:
    """The status changes `editor` may make to an entry in `status`, in the order the page shows them."""
    possible = {
        "draft": (FaqAction.APPROVE, FaqAction.RETIRE),
        "approved": (FaqAction.DRAFT, FaqAction.RETIRE),
        "retired": (FaqAction.APPROVE, FaqAction.DRAFT),
    }.get(status, ())
    return [action for action in possible if allowed(editor, action, status)]
