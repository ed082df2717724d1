"""Who may see and change which person: pure, so the whole matrix is tested without a database.

Owners and admins look after everyone in the organisation, except that only an owner makes,
unmakes or changes an owner: an admin must not be able to take the organisation from its owners.
A manager looks after her team: the people whose departments are all among hers (a person of no
department is nobody's team) and whose location scope lies inside hers. Of them she changes the
agents and viewers, and only what running a team needs (shifts, days off, skills, languages, time
zone, capacity, departments among her own, location inside hers, agent or viewer, deactivate);
admins, owners and other managers of her team she may read but not change. Agents and viewers read
their own page. Everyone mints and revokes their own API tokens; owners and admins revoke anyone's.

Two rules keep the organisation administrable: nobody deactivates themselves or changes their own
role (another admin does it), and the last active owner cannot be demoted or deactivated.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from relaydesk.core.enums import Role


class PersonField(StrEnum):
    NAME = "name"
    HANDLE = "handle"
    EMAIL = "email"
    ROLE = "role"
    DEPARTMENTS = "departments"
    LOCATION = "location"
    LANGUAGES = "languages"
    SKILLS = "skills"
    TIMEZONE = "timezone"
    SHIFTS = "shifts"  # the working shifts and the days off
    CAPACITY = "max_concurrent"
    AGENCY = "agency"
    ACTIVE = "active"


ALL_FIELDS = frozenset(PersonField)
# What running a team needs; names, addresses and agencies are the organisation's business.
TEAM_FIELDS = frozenset(
    {
        PersonField.ROLE,
        PersonField.DEPARTMENTS,
        PersonField.LOCATION,
        PersonField.LANGUAGES,
        PersonField.SKILLS,
        PersonField.TIMEZONE,
        PersonField.SHIFTS,
        PersonField.CAPACITY,
        PersonField.ACTIVE,
    }
)
# Fields a new person's form may fill in (a manager's invite names a person, so naming is hers then).
INVITE_FIELDS = TEAM_FIELDS | {PersonField.NAME, PersonField.HANDLE, PersonField.EMAIL}
ORG_WIDE = frozenset({Role.OWNER, Role.ADMIN})
TEAM_ROLES = frozenset({Role.AGENT, Role.VIEWER})


@dataclass(frozen=True)
class Editor:
    """The person acting: from their scope."""

    user_id: int
    role: Role
    department_ids: frozenset[int]
    location_ids: frozenset[int] | None  # None = the whole organisation


@dataclass(frozen=True)
class Person:
    """A person as stored, or as a change would leave them."""

    user_id: int | None  # None: not created yet
    role: Role
    department_ids: frozenset[int]
    location_id: int | None  # None = the whole organisation
    active: bool = True


def in_team(editor: Editor, person: Person) -> bool:
    """Whether `person` is in the manager's team: all departments hers, location inside hers."""
    if not person.department_ids or not person.department_ids <= editor.department_ids:
        return False
    if editor.location_ids is None:
        return True
    return person.location_id is not None and person.location_id in editor.location_ids


def may_view(editor: Editor, person: Person) -> bool:
    if editor.role in ORG_WIDE or person.user_id == editor.user_id:
        return True
    return editor.role == Role.MANAGER and in_team(editor, person)


def editable_fields(editor: Editor, person: Person) -> frozenset[PersonField]:
    """What the form lets this editor change on this person (the service checks the values)."""
    if editor.role == Role.OWNER:
        fields = ALL_FIELDS
    elif editor.role == Role.ADMIN:
        fields = frozenset() if person.role == Role.OWNER else ALL_FIELDS
    elif editor.role == Role.MANAGER and person.role in TEAM_ROLES and in_team(editor, person):
        fields = TEAM_FIELDS
    else:
        fields = frozenset()
    if person.user_id == editor.user_id:
        fields = fields - {PersonField.ROLE, PersonField.ACTIVE}
    return fields


def change_refusal(
    editor: Editor,
    before: Person | None,
    after: Person,
    changed: frozenset[PersonField],
    *,
    other_active_owners: int = 1,
) -> str | None:
    """Why `editor` may not make this change (`before` None: invite `after`); None when she may.

    `other_active_owners` counts the active owners besides the person changed.
    """
    if before is not None and not may_view(editor, before):
        return "this person is outside your part of the organisation"
    if before is None:
        refused = _invite_refusal(editor, after, changed)
        if refused is not None:
            return refused
    elif not changed:
        return None
    else:
        allowed = editable_fields(editor, before)
        beyond = sorted(changed - allowed)
        if beyond:
            return _beyond_reason(editor, before, beyond)
    if (
        after.role == Role.OWNER
        and editor.role != Role.OWNER
        and (before is None or before.role != Role.OWNER)
    ):
        return "only an owner makes someone an owner"
    if editor.role == Role.MANAGER:
        if after.role not in TEAM_ROLES:
            return "a manager gives the roles agent or viewer only"
        if not in_team(editor, after):
            return (
                "a manager keeps her people in her own departments and, if her scope is part of the "
                "organisation, inside it"
            )
    if (
        before is not None
        and before.role == Role.OWNER
        and before.active
        and (after.role != Role.OWNER or not after.active)
        and other_active_owners < 1
    ):
        return "this is the last active owner: make someone else an owner first"
    return None


def _invite_refusal(editor: Editor, after: Person, changed: frozenset[PersonField]) -> str | None:
    if editor.role in ORG_WIDE:
        return None
    if editor.role != Role.MANAGER:
        return "only owners, admins and managers invite people"
    beyond = sorted(changed - INVITE_FIELDS)
    if beyond:
        return f"a manager does not set {', '.join(beyond)}: ask an admin"
    return None


def _beyond_reason(editor: Editor, before: Person, beyond: list[PersonField]) -> str:
    if before.user_id == editor.user_id and PersonField.ACTIVE in beyond:
        return "you cannot deactivate yourself: ask another admin"
    if before.user_id == editor.user_id and PersonField.ROLE in beyond:
        return "you cannot change your own role: ask another admin (or owner)"
    if editor.role == Role.ADMIN and before.role == Role.OWNER:
        return "only an owner changes an owner"
    if editor.role == Role.MANAGER and before.role not in TEAM_ROLES:
        return "a manager changes agents and viewers only, not admins, owners or other managers"
    if editor.role == Role.MANAGER:
        return f"a manager does not change {', '.join(beyond)}: ask an admin"
    return "you can read your own profile; a manager or admin changes it"


def token_refusal(editor: Editor, owner: Person, *, mint: bool) -> str | None:
    """Whether `editor` may mint (for themselves only) or revoke a token of `owner`."""
    if owner.user_id == editor.user_id:
        return None
    if mint:
        return "a token acts as its person: each person mints their own"
    if editor.role in ORG_WIDE:
        return None
    return "only owners and admins revoke other people's tokens"


def may_list(editor: Editor) -> bool:
    """Whether the list of people is theirs to read (agents and viewers see their own page)."""
    return editor.role in ORG_WIDE or editor.role == Role.MANAGER


def may_limit_accounts(editor: Editor, person: Person) -> bool:
    """Who sets the channel accounts a person is limited to: whoever runs the person (an owner or
    admin; a manager for the agents and viewers of her team), never for themselves."""
    if person.user_id == editor.user_id:
        return False
    if editor.role == Role.OWNER:
        return True
    if editor.role == Role.ADMIN:
        return person.role != Role.OWNER
    return editor.role == Role.MANAGER and person.role in TEAM_ROLES and in_team(editor, person)


def account_in_reach(editor: Editor, account_location_id: int) -> bool:
    """A manager limited to part of the organisation hands out only that part's accounts."""
    return (
        editor.role in ORG_WIDE or editor.location_ids is None or account_location_id in editor.location_ids
    )
