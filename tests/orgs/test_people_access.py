"""Who may see and change which person: the whole matrix, role x action x in/out of the team."""

from __future__ import annotations

import pytest

from relaydesk.core.enums import Role
from relaydesk.orgs.people_access import (
    ALL_FIELDS,
    TEAM_FIELDS,
    Editor,
    Person,
    PersonField,
    change_refusal,
    editable_fields,
    may_list,
    may_view,
    token_refusal,
)

SERVICE, SALES, PR = 1, 2, 3
NORTH, NORTH_SHOP, SOUTH_SHOP = 10, 11, 21
ME = 100


def editor(
    role: Role, departments: set[int] = frozenset({SERVICE}), places: set[int] | None = None
) -> Editor:
    return Editor(ME, role, frozenset(departments), None if places is None else frozenset(places))


def person(
    role: Role = Role.AGENT,
    departments: set[int] = frozenset({SERVICE}),
    place: int | None = None,
    uid: int = 7,
) -> Person:
    return Person(uid, role, frozenset(departments), place)


OWNER, ADMIN, MANAGER, AGENT, VIEWER = (editor(r) for r in Role)
REGIONAL = editor(Role.MANAGER, {SERVICE, SALES}, {NORTH, NORTH_SHOP})

IN_TEAM = person()
OTHER_DEPARTMENT = person(departments={PR})
PARTLY_OURS = person(departments={SERVICE, PR})
NO_DEPARTMENT = person(departments=set())
A_MANAGER = person(Role.MANAGER)
AN_ADMIN = person(Role.ADMIN)
AN_OWNER = person(Role.OWNER)
IN_REGION = person(place=NORTH_SHOP)
OUT_OF_REGION = person(place=SOUTH_SHOP)
WHOLE_ORG = person(place=None)

# editor, target -> may view, fields she may change
VIEW_AND_EDIT = [
    (OWNER, AN_OWNER, True, ALL_FIELDS),
    (OWNER, OTHER_DEPARTMENT, True, ALL_FIELDS),
    (ADMIN, AN_OWNER, True, frozenset()),
    (ADMIN, AN_ADMIN, True, ALL_FIELDS),
    (ADMIN, NO_DEPARTMENT, True, ALL_FIELDS),
    (MANAGER, IN_TEAM, True, TEAM_FIELDS),
    (MANAGER, person(Role.VIEWER), True, TEAM_FIELDS),
    (MANAGER, OTHER_DEPARTMENT, False, frozenset()),
    (MANAGER, PARTLY_OURS, False, frozenset()),
    (MANAGER, NO_DEPARTMENT, False, frozenset()),
    (MANAGER, A_MANAGER, True, frozenset()),
    (MANAGER, AN_ADMIN, True, frozenset()),
    (MANAGER, AN_OWNER, True, frozenset()),
    (REGIONAL, IN_REGION, True, TEAM_FIELDS),
    (REGIONAL, OUT_OF_REGION, False, frozenset()),
    (REGIONAL, WHOLE_ORG, False, frozenset()),
    (AGENT, IN_TEAM, False, frozenset()),
    (VIEWER, IN_TEAM, False, frozenset()),
    (AGENT, person(uid=ME), True, frozenset()),
    (VIEWER, person(Role.VIEWER, uid=ME), True, frozenset()),
]


@pytest.mark.parametrize(("who", "whom", "sees", "fields"), VIEW_AND_EDIT)
def test_view_and_edit_matrix(who: Editor, whom: Person, sees: bool, fields: frozenset[PersonField]) -> None:
    assert may_view(who, whom) is sees
    assert editable_fields(who, whom) == fields


def test_nobody_changes_their_own_role_or_deactivates_themselves() -> None:
    for who in (OWNER, ADMIN):
        me = person(who.role, uid=ME)
        assert PersonField.ROLE not in editable_fields(who, me)
        refused = change_refusal(
            who, me, Person(ME, who.role, me.department_ids, None, False), frozenset({PersonField.ACTIVE})
        )
        assert refused is not None and "yourself" in refused


def _change(who: Editor, before: Person, after: Person, *fields: PersonField, owners: int = 1) -> str | None:
    return change_refusal(who, before, after, frozenset(fields), other_active_owners=owners)


def test_role_changes() -> None:
    promoted = Person(7, Role.OWNER, IN_TEAM.department_ids, None)
    assert _change(OWNER, IN_TEAM, promoted, PersonField.ROLE) is None
    assert "only an owner" in (_change(ADMIN, IN_TEAM, promoted, PersonField.ROLE) or "")
    to_manager = Person(7, Role.MANAGER, IN_TEAM.department_ids, None)
    assert _change(ADMIN, IN_TEAM, to_manager, PersonField.ROLE) is None
    assert "agent or viewer" in (_change(MANAGER, IN_TEAM, to_manager, PersonField.ROLE) or "")
    to_viewer = Person(7, Role.VIEWER, IN_TEAM.department_ids, None)
    assert _change(MANAGER, IN_TEAM, to_viewer, PersonField.ROLE) is None


def test_the_last_owner_is_kept() -> None:
    demoted = Person(7, Role.ADMIN, frozenset(), None)
    assert "last active owner" in (_change(OWNER, AN_OWNER, demoted, PersonField.ROLE, owners=0) or "")
    assert _change(OWNER, AN_OWNER, demoted, PersonField.ROLE, owners=1) is None
    gone = Person(7, Role.OWNER, frozenset(), None, active=False)
    assert "last active owner" in (_change(OWNER, AN_OWNER, gone, PersonField.ACTIVE, owners=0) or "")


@pytest.mark.parametrize(
    ("who", "after", "fields", "allowed"),
    [
        (MANAGER, IN_TEAM, {PersonField.SHIFTS, PersonField.CAPACITY}, True),
        (MANAGER, OTHER_DEPARTMENT, {PersonField.DEPARTMENTS}, False),  # moving her out of the team
        (MANAGER, person(departments={SERVICE, SALES}), {PersonField.DEPARTMENTS}, False),  # not hers
        (MANAGER, IN_TEAM, {PersonField.NAME}, False),
        (MANAGER, IN_TEAM, {PersonField.AGENCY}, False),
        (MANAGER, Person(7, Role.AGENT, frozenset({SERVICE}), None, False), {PersonField.ACTIVE}, True),
        (REGIONAL, OUT_OF_REGION, {PersonField.LOCATION}, False),
        (ADMIN, OTHER_DEPARTMENT, {PersonField.DEPARTMENTS, PersonField.NAME}, True),
        (AGENT, IN_TEAM, {PersonField.CAPACITY}, False),
    ],
)
def test_change_matrix(who: Editor, after: Person, fields: set[PersonField], allowed: bool) -> None:
    before = IN_REGION if who is REGIONAL else IN_TEAM
    assert (_change(who, before, after, *fields) is None) is allowed


@pytest.mark.parametrize(
    ("who", "new", "fields", "allowed"),
    [
        (ADMIN, person(Role.ADMIN, uid=0), {PersonField.ROLE, PersonField.AGENCY}, True),
        (ADMIN, person(Role.OWNER, uid=0), {PersonField.ROLE}, False),
        (OWNER, person(Role.OWNER, uid=0), {PersonField.ROLE}, True),
        (MANAGER, person(uid=0), {PersonField.NAME, PersonField.EMAIL, PersonField.SHIFTS}, True),
        (MANAGER, person(Role.VIEWER, uid=0), {PersonField.ROLE}, True),
        (MANAGER, person(Role.MANAGER, uid=0), {PersonField.ROLE}, False),
        (MANAGER, person(departments={PR}, uid=0), {PersonField.DEPARTMENTS}, False),
        (MANAGER, person(uid=0), {PersonField.AGENCY}, False),
        (REGIONAL, person(place=NORTH_SHOP, uid=0), {PersonField.LOCATION}, True),
        (REGIONAL, person(place=None, uid=0), {PersonField.NAME}, False),
        (AGENT, person(uid=0), {PersonField.NAME}, False),
        (VIEWER, person(uid=0), {PersonField.NAME}, False),
    ],
)
def test_invite_matrix(who: Editor, new: Person, fields: set[PersonField], allowed: bool) -> None:
    created = Person(None, new.role, new.department_ids, new.location_id)
    assert (change_refusal(who, None, created, frozenset(fields)) is None) is allowed


@pytest.mark.parametrize(
    ("who", "owner", "mint", "allowed"),
    [
        (AGENT, person(uid=ME), True, True),
        (AGENT, person(uid=ME), False, True),
        (AGENT, IN_TEAM, False, False),
        (MANAGER, IN_TEAM, False, False),
        (MANAGER, IN_TEAM, True, False),
        (ADMIN, AN_OWNER, False, True),
        (ADMIN, IN_TEAM, True, False),  # a token acts as its person: nobody mints one for another
        (OWNER, IN_TEAM, False, True),
    ],
)
def test_token_matrix(who: Editor, owner: Person, mint: bool, allowed: bool) -> None:
    assert (token_refusal(who, owner, mint=mint) is None) is allowed


def test_who_lists_people() -> None:
    assert [may_list(e) for e in (OWNER, ADMIN, MANAGER, AGENT, VIEWER)] == [True, True, True, False, False]
