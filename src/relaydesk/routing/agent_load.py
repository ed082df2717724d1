"""Agents' presence and load as one write transaction knows them: read once per agent, kept in step.

Assignment asked the database for the department's agents' presence and open-conversation counts
for every message it assigned (2 of ~9 statements per processed message). The pipeline turns this
on for a chunk of messages (`remember`): within one write transaction nobody else assigns to those
agents (SQLite has one writer; on PostgreSQL `live_agents` locks their rows until commit), so a
count read once and moved by the transaction's own assignments (`settle`, after each message is
flushed) stays what the database would answer. A conversation an agent closes meanwhile in
another transaction only leaves the count high, never low: capacity is never exceeded.

Without `remember` (an agent's manual assignment, the queue drain) every read is live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from relaydesk.models import Conversation
from relaydesk.orgs.service import OPEN_STATUSES, org_service
from relaydesk.routing import repository

LOAD_KEY = "relaydesk.agent_load"

Live = dict[int, tuple[bool, datetime | None]]  # agent id -> (online, last assigned at)


@dataclass
class AgentLoad:
    live: Live = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    inactive: set[int] = field(default_factory=set)


def remember(session: Session) -> None:
    """Keep what is read of agents for the rest of this transaction (cleared again by `forget`)."""
    session.info[LOAD_KEY] = AgentLoad()


def forget(session: Session) -> None:
    """After a rollback to a savepoint the kept counts may be wrong: read afresh from here on."""
    if LOAD_KEY in session.info:
        session.info[LOAD_KEY] = AgentLoad()


def live_and_counts(session: Session, user_ids: list[int]) -> tuple[Live, dict[int, int]]:
    """The still-active agents' presence and last assignment, and their open-conversation counts."""
    load: AgentLoad | None = session.info.get(LOAD_KEY)
    if load is None:
        live = repository.live_agents(session, user_ids)
        return live, org_service.open_counts(session, list(live))
    missing = [i for i in user_ids if i not in load.live and i not in load.inactive]
    if missing:
        found = repository.live_agents(session, missing)
        load.live.update(found)
        load.inactive.update(set(missing) - set(found))
        counts = org_service.open_counts(session, list(found))
        load.counts.update({i: counts.get(i, 0) for i in found})
    live = {i: load.live[i] for i in user_ids if i in load.live}
    return live, {i: load.counts[i] for i in live}


def stamped(session: Session, user_id: int, now: datetime) -> None:
    """The agent was just given a conversation (round-robin's memory)."""
    load: AgentLoad | None = session.info.get(LOAD_KEY)
    if load is not None and user_id in load.live:
        load.live[user_id] = (load.live[user_id][0], now)


def counted_for(conversation: Conversation) -> int | None:
    """Whose open-conversation count includes the conversation as it is now."""
    if conversation.status not in OPEN_STATUSES or conversation.assignee_id is None:
        return None
    return int(conversation.assignee_id)


def settle(session: Session, before: int | None, conversation: Conversation) -> None:
    """Move the kept counts as the conversation, now flushed, moved from `before` (`counted_for`
    read before it was processed) to its agent now."""
    load: AgentLoad | None = session.info.get(LOAD_KEY)
    after = counted_for(conversation)
    if load is None or before == after:
        return
    if before is not None and before in load.counts:
        load.counts[before] -= 1
    if after is not None and after in load.counts:
        load.counts[after] += 1
