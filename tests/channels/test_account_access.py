"""Who may do what with channel accounts: the whole role × action matrix, without a database."""

from __future__ import annotations

import pytest

from relaydesk.channels.account_access import AccountAction, may, refusal
from relaydesk.core.enums import Role

A = AccountAction
EXPECTED = {
    Role.OWNER: {A.VIEW, A.CHECK, A.CONNECT, A.EDIT, A.SWITCH},
    Role.ADMIN: {A.VIEW, A.CHECK, A.CONNECT, A.EDIT, A.SWITCH},
    Role.MANAGER: {A.VIEW, A.CHECK},
    Role.AGENT: set(),
    Role.VIEWER: set(),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(AccountAction))
def test_the_matrix(role: Role, action: AccountAction) -> None:
    allowed = action in EXPECTED[role]
    assert may(role, action) is allowed
    assert (refusal(role, action) is None) is allowed


def test_a_refusal_says_who_may() -> None:
    assert "owners and admins" in (refusal(Role.MANAGER, A.CONNECT) or "")
    assert "managers, admins and owners" in (refusal(Role.AGENT, A.VIEW) or "")
