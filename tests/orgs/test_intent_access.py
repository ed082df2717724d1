"""Who may change which intent: the whole role × department × scope matrix, without a database."""

from __future__ import annotations

import pytest

from relaydesk.core.enums import Role
from relaydesk.orgs.intent_access import IntentEditor, refusal

MINE = frozenset({"service"})


@pytest.mark.parametrize(
    ("role", "regional", "department", "allowed"),
    [
        (Role.OWNER, False, "hr", True),
        (Role.OWNER, True, None, True),
        (Role.ADMIN, False, None, True),
        (Role.ADMIN, False, "service", True),
        (Role.MANAGER, False, "service", True),
        (Role.MANAGER, False, "hr", False),
        (Role.MANAGER, False, None, False),
        (Role.MANAGER, True, "service", False),
        (Role.AGENT, False, "service", False),
        (Role.VIEWER, False, "service", False),
    ],
)
def test_matrix(role: Role, regional: bool, department: str | None, allowed: bool) -> None:
    editor = IntentEditor(role=role, departments=MINE, regional=regional)
    assert (refusal(editor, department) is None) is allowed


def test_who_sees_and_who_creates() -> None:
    assert IntentEditor(Role.MANAGER, MINE, regional=True).may_see
    assert not IntentEditor(Role.MANAGER, MINE, regional=True).may_create
    assert IntentEditor(Role.MANAGER, MINE, regional=False).may_create
    assert not IntentEditor(Role.MANAGER, frozenset(), regional=False).may_create
    assert not IntentEditor(Role.AGENT, MINE, regional=False).may_see
    assert not IntentEditor(Role.VIEWER, MINE, regional=False).may_see
    assert IntentEditor(Role.ADMIN, frozenset(), regional=False).may_create


def test_a_refusal_says_why() -> None:
    reason = refusal(IntentEditor(Role.MANAGER, MINE, regional=False), "hr")
    assert reason is not None and "service" in reason
