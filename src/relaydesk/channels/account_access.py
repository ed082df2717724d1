"""Who may do what with the channel accounts: pure, so the whole matrix is tested without a database.

Connecting an account hands RelayDesk a brand's keys to a network and decides which webhook
traffic lands in which organisation, so only owners and admins connect, edit or switch accounts
off. Managers answer for their part of the organisation and need to see whether its accounts
work: they read the list, an account's status and may run the check (which stores nothing).
Agents and viewers work conversations, not accounts. An owner or admin limited to a part of the
organisation (a region admin) acts on the accounts of that part only; the service filters by
location, this module decides by role.
"""

from __future__ import annotations

from enum import StrEnum

from relaydesk.core.enums import Role


class AccountAction(StrEnum):
    VIEW = "view"  # the list, one account's page and its status
    CHECK = "check"  # run the check again now (reads only)
    CONNECT = "connect"
    EDIT = "edit"  # names, location, credentials, sandbox
    SWITCH = "switch"  # enable / disable


READ_ONLY = frozenset({AccountAction.VIEW, AccountAction.CHECK})
CONFIGURERS = frozenset({Role.OWNER, Role.ADMIN})
READERS = CONFIGURERS | {Role.MANAGER}


def refusal(role: Role, action: AccountAction) -> str | None:
    """Why someone of `role` may not do `action`; None when they may."""
    if role in CONFIGURERS:
        return None
    if role in READERS and action in READ_ONLY:
        return None
    if role in READERS:
        return "only owners and admins connect, change or switch off channel accounts"
    return "channel accounts are for managers, admins and owners"


def may(role: Role, action: AccountAction) -> bool:
    return refusal(role, action) is None
