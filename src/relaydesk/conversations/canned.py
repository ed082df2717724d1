"""Saved replies offered for one conversation, filled for its customer, the caller and its location.

A reply limited to departments is offered to owners and admins (they see every department), to members of
one of those departments, and on any conversation that sits in one of them.
"""

from __future__ import annotations

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.schemas import CannedOut, MacroActions
from relaydesk.conversations.variables import choose, fill
from relaydesk.db import reading


def canned(deps: Deps, scope: Scope, conversation_id: int) -> list[CannedOut]:
    with reading(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id)
        names = repo.lookup_names(session, [conversation])
        agent = repo.user_by_id(session, scope.user_id)
        allowed_departments = repo.department_keys(
            session,
            {*scope.department_ids, *([conversation.department_id] if conversation.department_id else [])},
        )
        values = {
            "customer.name": names["contact"].get(conversation.contact_id, (None, None))[1],
            "agent.name": agent.name if agent is not None else None,
            "location.name": names["location"].get(conversation.location_id, (None, None))[1],
        }
        agent_languages = [str(code) for code in (agent.languages or [])] if agent is not None else []
        out: list[CannedOut] = []
        for response in repo.canned_responses(session, scope.org_id):
            restricted = set(response.department_keys or [])
            if restricted and not scope.org_wide and not restricted & allowed_departments:
                continue
            chosen = choose(dict(response.texts or {}), conversation.language, agent_languages)
            if chosen is None:
                continue
            language, text = chosen
            out.append(
                CannedOut(
                    key=response.key,
                    title=response.title,
                    language=language,
                    text=fill(text, values),
                    actions=MacroActions.model_validate(response.actions or {}),
                )
            )
        return out
