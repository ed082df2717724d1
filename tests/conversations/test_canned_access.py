"""Who may change which saved reply: the role × departments × scope matrix, without a database."""

from __future__ import annotations

import pytest

from relaydesk.conversations.canned_access import CannedEditor, refusal
from relaydesk.core.enums import Role

MINE = frozenset({"service", "sales"})


@pytest.mark.parametrize(
    ("role", "regional", "departments", "allowed"),
    [
        (Role.OWNER, False, [], True),
        (Role.ADMIN, True, ["hr"], True),
        (Role.MANAGER, False, ["service"], True),
        (Role.MANAGER, False, ["service", "sales"], True),
        (Role.MANAGER, False, ["service", "hr"], False),
        (Role.MANAGER, False, [], False),
        (Role.MANAGER, True, ["service"], False),
        (Role.AGENT, False, ["service"], False),
        (Role.VIEWER, False, ["service"], False),
    ],
)
def test_matrix(role: Role, regional: bool, departments: list[str], allowed: bool) -> None:
    assert (refusal(CannedEditor(role, MINE, regional), departments) is None) is allowed


def test_who_sees_and_who_creates() -> None:
    assert CannedEditor(Role.AGENT, MINE, False).may_see
    assert not CannedEditor(Role.AGENT, MINE, False).may_create
    assert not CannedEditor(Role.VIEWER, MINE, False).may_see
    assert CannedEditor(Role.MANAGER, MINE, False).may_create
    assert not CannedEditor(Role.MANAGER, MINE, True).may_create
