"""Who may do what with the organisation tree, as a matrix: role x action x kind x in/out of scope."""

from __future__ import annotations

import pytest

from relaydesk.core.enums import Role
from relaydesk.orgs.location_access import LocationAction, department_refusal, may, refusal

A = LocationAction
EVERY = list(LocationAction)
MANAGER_MAY = {A.VIEW, A.HOURS, A.EDIT_SCHEDULE, A.NEW_SCHEDULE}


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
@pytest.mark.parametrize("action", EVERY)
@pytest.mark.parametrize("kind", ["brand", "region", "location"])
def test_owners_and_admins_do_everything_inside_their_scope(role: Role, action: A, kind: str) -> None:
    assert may(role, action, inside=True, kind=kind)
    assert not may(role, action, inside=False, kind=kind)


@pytest.mark.parametrize("action", EVERY)
@pytest.mark.parametrize("kind", ["brand", "region", "location"])
def test_a_manager_keeps_her_places_hours_and_renames_only_locations(action: A, kind: str) -> None:
    allowed = action in MANAGER_MAY or (action == A.RENAME and kind == "location")
    assert may(Role.MANAGER, action, inside=True, kind=kind) is allowed
    assert not may(Role.MANAGER, action, inside=False, kind=kind)  # nothing outside her subtree


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
@pytest.mark.parametrize("action", EVERY)
def test_agents_and_viewers_do_nothing(role: Role, action: A) -> None:
    assert refusal(role, action) == "the organisation tree is for managers, admins and owners"


def test_the_reasons_say_what_to_do_instead() -> None:
    shared = refusal(Role.MANAGER, A.EDIT_SCHEDULE, inside=False)
    assert shared is not None and "new schedule" in shared
    assert "outside" in (refusal(Role.MANAGER, A.HOURS, inside=False) or "")
    assert "brand" in (refusal(Role.ADMIN, A.ADD, inside=False, kind="brand") or "")
    assert "owners and admins" in (refusal(Role.MANAGER, A.DELETE) or "")


@pytest.mark.parametrize(
    ("role", "read", "change"),
    [
        (Role.OWNER, True, True),
        (Role.ADMIN, True, True),
        (Role.MANAGER, True, False),
        (Role.AGENT, False, False),
        (Role.VIEWER, False, False),
    ],
)
def test_departments_are_read_by_managers_and_changed_by_admins(role: Role, read: bool, change: bool) -> None:
    assert (department_refusal(role, change=False) is None) is read
    assert (department_refusal(role, change=True) is None) is change
