"""Who may do what with the listening queries: pure, so the matrix is tested without a database.

A listening query decides which public posts about a brand reach the team, so it belongs to the
people who answer for that brand: owners, admins and managers. Each acts on the queries of her
part of the organisation: someone limited to a region or a shop (`Scope.location_path`) sees and
changes only the queries whose brand location lies inside it (and must give new ones such a
location); someone who answers for the whole organisation acts on all of them. Agents and viewers
work the posts the queries find (the listening items), not the queries, so they do not see the
settings page. The service works out "inside" from the database; this module decides by role.
"""

from __future__ import annotations

from enum import StrEnum

from relaydesk.core.enums import Role


class ListeningAction(StrEnum):
    VIEW = "view"  # the list with what each query found, and one query's form
    CREATE = "create"
    EDIT = "edit"  # keywords, exclusions, networks, languages, brand location
    SWITCH = "switch"  # pause / resume
    TRY = "try"  # would this post match? (reads only)


MANAGERS = frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER})


def refusal(role: Role, action: ListeningAction, *, in_scope: bool) -> str | None:
    """Why someone of `role` may not do `action` on a query (or a new query's location); None when they may.

    `in_scope`: the query's brand location is inside the caller's part of the organisation (always
    true for someone who answers for all of it).
    """
    if role not in MANAGERS:
        return "listening queries are for managers, admins and owners"
    if not in_scope:
        return "this listening query belongs to another part of the organisation"
    return None


def may(role: Role, action: ListeningAction, *, in_scope: bool = True) -> bool:
    return refusal(role, action, in_scope=in_scope) is None
