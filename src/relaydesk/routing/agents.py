"""Who may take a conversation: its department's agents as the snapshot knows them, their live
presence and load, and the choice among them (`assignment.choose_agent`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from relaydesk.models import Conversation
from relaydesk.orgs.service import OPEN_STATUSES
from relaydesk.orgs.shifts import is_on_shift
from relaydesk.orgs.snapshot import AgencyInfo, DepartmentInfo, MemberInfo, OrgSnapshot
from relaydesk.routing import agent_load, repository
from relaydesk.routing.assignment import AgentCandidate, AssignmentChoice, AssignmentNeed, choose_agent

log = logging.getLogger(__name__)

# Where the pipeline leaves each conversation's sticky agent, read for its whole batch at once.
STICKY_KEY = "relaydesk.sticky_agents"
# Conversation tags that carry a routing decision into assignment and approval, like "skill:".
TEAM_TAG = "team:"


def team_keys(conversation: Conversation) -> list[str]:
    return [t[len(TEAM_TAG) :] for t in (conversation.tags or []) if t.startswith(TEAM_TAG)]


def choose(
    session: Session, snap: OrgSnapshot, dept: DepartmentInfo, conversation: Conversation, now: datetime
) -> AssignmentChoice:
    """Least-loaded (or the department's strategy) eligible agent of `dept`, or why nobody."""
    location_path = snap.location_info(conversation.location_id).path
    # An agent limited to a subtree of the org or to named accounts only gets conversations they
    # can see; a viewer may sit in a department to read it but can never answer, so never gets work.
    members = [
        m
        for m in snap.members.get(dept.id, [])
        if m.role != "viewer"
        and (m.location_id is None or location_path.startswith(snap.location_path(m.location_id)))
        and (m.account_ids is None or conversation.account_id in m.account_ids)
    ]
    teams = team_keys(conversation)
    agencies = snap.agencies
    if teams:
        # A rule handed it to a team: only that team's people may take it.
        team_ids = {a.id for a in agencies.values() if a.key in teams}
        members = [m for m in members if m.agency_id in team_ids]
    # What changes all day is read live, never from the snapshot: presence, the last
    # assignment (round-robin) and, after the lock, the load each agent carries now.
    live, counts = agent_load.live_and_counts(session, [m.id for m in members])
    members = [m for m in members if m.id in live]
    # The count is of stored rows; this conversation is among them only as stored (the
    # pipeline processes without autoflush, so its pending changes are not in the count).
    counted_as = _stored_assignee(conversation)
    sticky = last_agent(session, conversation)
    candidates = [
        AgentCandidate(
            id=m.id,
            handle=m.handle,
            languages=list(m.languages),
            skills=list(m.skills),
            online=live[m.id][0],
            on_shift=_on_shift(m, now, _agent_holidays(snap, m)),
            open_count=counts.get(m.id, 0) - (1 if counted_as == m.id else 0),
            max_concurrent=m.max_concurrent,
            last_assigned_at=live[m.id][1],
            active=True,
            contract_languages=_contract_languages(agencies.get(m.agency_id) if m.agency_id else None),
        )
        for m in members
    ]
    need = AssignmentNeed(
        language=conversation.language,
        required_skills=[t[len("skill:") :] for t in (conversation.tags or []) if t.startswith("skill:")],
        sticky_agent_id=sticky,
    )
    choice = choose_agent(candidates, need, dept.assignment)
    if teams and not members and choice.agent_id is None:
        choice = AssignmentChoice(
            None, f"no member of team {', '.join(teams)} in this department", choice.considered, "nobody"
        )
    return choice


def last_agent(session: Session, conversation: Conversation) -> int | None:
    """The agent a returning customer spoke to: this conversation's, else their last one's."""
    if conversation.assignee_id is not None:
        return conversation.assignee_id
    known: dict[int, int | None] | None = session.info.get(STICKY_KEY)
    if known is not None and conversation.id in known:
        # The pipeline read the contact's history for its whole batch (pipeline/service.py).
        return known[conversation.id]
    return repository.last_assignee_of_contact(session, conversation)


def handle_of(snap: OrgSnapshot, user_id: int | None) -> str:
    if user_id is None:
        return "nobody"
    handle = snap.handles.get(user_id)
    return f"@{handle}" if handle else f"user {user_id}"


def _stored_value(conversation: Conversation, key: str) -> Any:
    """The value as the database holds it now (before any pending change of this session)."""
    state = inspect(conversation)
    if state.pending or state.transient:
        return None
    history = state.attrs[key].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return None if history.added else getattr(conversation, key)


def _stored_assignee(conversation: Conversation) -> int | None:
    """Whose open-conversation count includes this conversation as stored, if anyone's."""
    if _stored_value(conversation, "status") not in OPEN_STATUSES:
        return None
    assignee = _stored_value(conversation, "assignee_id")
    return int(assignee) if assignee is not None else None


def _agent_holidays(snap: OrgSnapshot, member: MemberInfo) -> tuple[str, ...]:
    """Public holidays where an agent works: those of their location's business hours.

    An agent tied to a location (a franchisee, a region lead) keeps its holidays; an agent without
    one has none beyond their own time off, since the conversation's location says nothing about
    where the agent sits.
    """
    if member.location_id is None:
        return ()
    try:
        return snap.location_info(member.location_id).holidays
    except LookupError:
        return ()


def _contract_languages(agency: AgencyInfo | None) -> list[str]:
    """The languages an agency's contract lets its people answer in; empty = any."""
    languages = (agency.contract or {}).get("languages") if agency is not None else None
    return [str(x) for x in languages] if isinstance(languages, list) else []


def _on_shift(user: MemberInfo, now: Any, holidays: Sequence[str] = ()) -> bool:
    try:
        return is_on_shift(list(user.shifts), user.timezone, now, list(holidays))
    except ValueError:
        log.warning("agent %s has invalid shifts; treated as off shift", user.id)
        return False
