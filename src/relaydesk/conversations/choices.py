"""What an agent can pick on the inbox and conversation pages: departments, agents, intents."""

from __future__ import annotations

from typing import Any

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations.context import Deps
from relaydesk.core.enums import BUILTIN_INTENTS, SPAM
from relaydesk.db import reading
from relaydesk.models import Department
from relaydesk.orgs.service import org_service as orgs
from relaydesk.triage.base import vocabulary_names


def departments(deps: Deps, scope: Scope) -> list[Department]:
    """All the organisation's departments (the caller filters them for what it shows)."""
    with reading(deps.sessions) as session:
        return orgs.departments(session, scope.org_id)


def agents(deps: Deps, department_id: int | None) -> list[dict[str, Any]]:
    """The department's people who can answer, with how many open conversations each has."""
    with reading(deps.sessions) as session:
        members = orgs.department_members(session, department_id) if department_id is not None else []
        load = orgs.open_counts(session, [m.id for m in members])
        return [
            {"id": m.id, "name": m.name, "handle": m.handle, "open": load.get(m.id, 0)}
            for m in members
            if m.role != "viewer"
        ]


def intent_names(deps: Deps, scope: Scope) -> list[str]:
    """The intents a conversation of this org can have: its vocabulary, plus spam (the signal an
    agent confirms by correcting the intent to spam)."""
    with reading(deps.sessions) as session:
        rows = repo.intent_vocabulary(session, scope.org_id)
    names = vocabulary_names(rows, BUILTIN_INTENTS)
    return sorted({*names, SPAM})
