"""Who may do what with listening queries: the whole matrix role x action x in/out of scope (pure)."""

from __future__ import annotations

import pytest

from relaydesk.core.enums import Role
from relaydesk.crisis.listening_access import ListeningAction, may, refusal

MANAGING = {Role.OWNER, Role.ADMIN, Role.MANAGER}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(ListeningAction))
@pytest.mark.parametrize("in_scope", [True, False], ids=["inside", "outside"])
def test_the_matrix(role: Role, action: ListeningAction, in_scope: bool) -> None:
    # Owners, admins and managers do everything to the queries of their part, nothing outside it;
    # agents and viewers work the posts found, not the queries.
    expected = role in MANAGING and in_scope
    assert may(role, action, in_scope=in_scope) is expected
    reason = refusal(role, action, in_scope=in_scope)
    assert (reason is None) is expected
    if not expected:
        assert reason and ("another part" in reason if role in MANAGING else "managers" in reason)
