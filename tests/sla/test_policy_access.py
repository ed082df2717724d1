"""Who may read and change SLA policies and agency contracts (pure)."""

from __future__ import annotations

import pytest

from relaydesk.core.enums import Role
from relaydesk.sla.policy_access import SlaAction, refusal


@pytest.mark.parametrize(
    ("role", "may_view", "may_edit"),
    [
        (Role.OWNER, True, True),
        (Role.ADMIN, True, True),
        (Role.MANAGER, True, False),
        (Role.AGENT, False, False),
        (Role.VIEWER, False, False),
    ],
)
def test_matrix(role: Role, may_view: bool, may_edit: bool) -> None:
    assert (refusal(role, SlaAction.VIEW) is None) is may_view
    assert (refusal(role, SlaAction.EDIT) is None) is may_edit
