"""Who may do what with the notification destinations: pure, so the matrix is tested without a database.

A destination's URL lets whoever holds it post into a team's chat, and a destination is the whole
organisation's (any rule may name it), so only owners and admins who answer for the whole
organisation create, change, delete or test one. An owner or admin limited to a part of it (a
region admin) and the managers see the names, to use them in the rules they write (`notify:
["webhook:pr-desk"]`), never the URLs, which no one reads back. Agents and viewers neither
write rules nor see the page.
"""

from __future__ import annotations

from enum import StrEnum

from relaydesk.core.enums import Role


class DestinationAction(StrEnum):
    VIEW = "view"  # the names, whether each is on, and those the environment sets
    CREATE = "create"
    EDIT = "edit"  # replace the URL, switch on or off
    DELETE = "delete"
    TEST = "test"  # post a short test message to it now


CONFIGURERS = frozenset({Role.OWNER, Role.ADMIN})
READERS = CONFIGURERS | {Role.MANAGER}


def refusal(role: Role, action: DestinationAction, *, org_wide: bool) -> str | None:
    """Why someone of `role` may not do `action`; None when they may.

    `org_wide`: the caller answers for the whole organisation, not one part of it.
    """
    if role not in READERS:
        return "notification destinations are for managers, admins and owners"
    if action == DestinationAction.VIEW:
        return None
    if role not in CONFIGURERS:
        return "only owners and admins add, change, test or delete notification destinations"
    if not org_wide:
        return "a destination serves the whole organisation: an admin of all of it changes it"
    return None


def may(role: Role, action: DestinationAction, *, org_wide: bool) -> bool:
    return refusal(role, action, org_wide=org_wide) is None
