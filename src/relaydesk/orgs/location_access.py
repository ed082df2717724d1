"""Who may do what with the organisation tree: pure, so the whole matrix is tested without a database.

The tree decides whose conversations a person sees (a person limited to a region sees that
subtree), so its shape is the owners' and admins' decision: they add, rename, move hours of and
delete brands, regions and locations. A manager answers for her part of the organisation and
keeps its opening times right: inside her subtree she renames locations and changes the hours
and time zone of any place (a whole region at once too), but she adds and deletes nothing and
renames no brand or region. Outside her subtree she may do nothing, not even read.

A named schedule (business hours) can be shared by places inside and outside her subtree: she
changes it only when every place using it is inside (and no SLA policy names it); otherwise she
saves her edit as a new schedule for her places. `inside` is worked out by the service (the
place is in the caller's subtree; for a shared schedule, all its users are) so this module only
decides by role, action and kind.
"""

from __future__ import annotations

from enum import StrEnum

from relaydesk.core.enums import Role


class LocationAction(StrEnum):
    VIEW = "view"  # the tree, search, one place's page
    RENAME = "rename"
    HOURS = "hours"  # time zone and which schedule a place uses (one place or many at once)
    ADD = "add"  # a brand, region or location under a node (a brand at the top)
    DELETE = "delete"
    EDIT_SCHEDULE = "edit_schedule"  # a named schedule's days, hours and holidays, for all its places
    NEW_SCHEDULE = "new_schedule"


# A node sits under one of the same or a lower rank (a region inside a region is allowed).
KIND_RANK = {"brand": 0, "region": 1, "location": 2}
CONFIGURERS = frozenset({Role.OWNER, Role.ADMIN})
MANAGERS = CONFIGURERS | {Role.MANAGER}
# What a manager may do inside her subtree; RENAME only for locations (see `refusal`).
MANAGER_ACTIONS = frozenset(
    {
        LocationAction.VIEW,
        LocationAction.RENAME,
        LocationAction.HOURS,
        LocationAction.EDIT_SCHEDULE,
        LocationAction.NEW_SCHEDULE,
    }
)


def refusal(role: Role, action: LocationAction, *, inside: bool = True, kind: str = "location") -> str | None:
    """Why someone of `role` may not do `action` on a node of `kind`; None when they may.

    `inside`: the node (for a schedule: every place using it) lies in the caller's subtree.
    """
    if role not in MANAGERS:
        return "the organisation tree is for managers, admins and owners"
    if not inside:
        if action == LocationAction.EDIT_SCHEDULE:
            return (
                "this schedule is also used outside your part of the organisation: "
                "save your hours as a new schedule instead"
            )
        if action == LocationAction.ADD and kind == "brand":
            return "only an owner or admin of the whole organisation adds a brand"
        return "that place is outside your part of the organisation"
    if role in CONFIGURERS:
        return None
    if action not in MANAGER_ACTIONS:
        return "only owners and admins add, move or delete brands, regions and locations"
    if action == LocationAction.RENAME and kind != "location":
        return "only owners and admins rename brands and regions"
    return None


def may(role: Role, action: LocationAction, *, inside: bool = True, kind: str = "location") -> bool:
    return refusal(role, action, inside=inside, kind=kind) is None


def department_refusal(role: Role, *, change: bool) -> str | None:
    """Departments are the organisation's queues: managers read them, owners and admins change them."""
    if role in CONFIGURERS:
        return None
    if role in MANAGERS and not change:
        return None
    if role in MANAGERS:
        return "only owners and admins create, change or delete departments"
    return "departments are for managers, admins and owners"
