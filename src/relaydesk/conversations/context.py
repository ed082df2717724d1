"""What every conversation use case runs with: its collaborators and the conversation the caller sees."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations.presence import PresenceRegistry
from relaydesk.core.errors import NotFound
from relaydesk.models import Conversation
from relaydesk.pipeline.bus.base import Bus
from relaydesk.routing.service import RoutingService
from relaydesk.sla.service import SlaService


class Deps(Protocol):
    """The façade's collaborators; a protocol, so the façade stays the one object callers build
    and tests can still swap an attribute (the bus, say) on it."""

    sessions: sessionmaker[Session]
    bus: Bus
    routing: RoutingService
    sla: SlaService
    presence: PresenceRegistry


def visible(session: Session, scope: Scope, conversation_id: int, lock: bool = False) -> Conversation:
    getter = repo.get_for_update if lock else repo.get_visible
    conversation = getter(session, scope, conversation_id)
    if conversation is None:
        # The same answer for "absent" and "not yours": no probing of other teams' ids.
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation
