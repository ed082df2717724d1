"""Typed domain events, published once the unit of work that caused them commits.

A slice publishes with `publish_on_commit(session, event)`; listeners (e-mail, outbound webhooks,
notifications, and later realtime push) subscribe to an event type on `hub`. A rolled-back unit of
work publishes nothing, so a listener never tells the world about something that did not happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_INFO_KEY = "relaydesk_events"


class DomainEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- conversations and messages ---------------------------------------------------------------


class MessageAccepted(DomainEvent):
    org_id: int
    conversation_id: int
    message_id: int
    duplicate: bool = False


class ConversationUpdated(DomainEvent):
    org_id: int
    conversation_id: int
    fields: list[str] = []


class ConversationAssigned(DomainEvent):
    org_id: int
    conversation_id: int
    user_id: int | None
    actor_user_id: int | None = None


class ConversationTransferred(DomainEvent):
    org_id: int
    conversation_id: int
    from_department_id: int | None
    to_department_id: int | None
    actor_user_id: int | None = None


class ConversationResolved(DomainEvent):
    org_id: int
    conversation_id: int
    actor_user_id: int | None = None


# -- replies ----------------------------------------------------------------------------------


class ReplyQueued(DomainEvent):
    org_id: int
    conversation_id: int
    reply_id: int


class ReplySent(DomainEvent):
    org_id: int
    conversation_id: int
    reply_id: int


class ReplyFailed(DomainEvent):
    org_id: int
    conversation_id: int
    reply_id: int
    reason: str


# -- SLA and notifications ----------------------------------------------------------------------


class SlaWarning(DomainEvent):
    org_id: int
    conversation_id: int
    kind: str  # which clock: first response, next response, resolution
    user_ids: list[int] = []
    text: str = ""


class SlaBreach(DomainEvent):
    org_id: int
    conversation_id: int
    kind: str
    user_ids: list[int] = []
    text: str = ""


class NotificationCreated(DomainEvent):
    org_id: int
    user_id: int
    notification_id: int | None = None
    kind: str
    conversation_id: int | None = None


# -- outbound side effects the notifications slice carries out ----------------------------------


class EmailRequested(DomainEvent):
    to: str
    subject: str
    text: str


class WebhookRequested(DomainEvent):
    name: str  # the webhook's name; its URL stays in the environment, never in an event
    text: str


E = TypeVar("E", bound=DomainEvent)
Listener = Callable[[E], None]


class EventHub:
    """In-process dispatch of committed events to the listeners of their type (and base types)."""

    def __init__(self) -> None:
        self._listeners: dict[type[DomainEvent], list[Callable[[DomainEvent], None]]] = {}

    def subscribe(self, event_type: type[E], listener: Callable[[E], None]) -> None:
        """Idempotent: a module that installs its listeners twice still runs them once."""
        listeners = self._listeners.setdefault(event_type, [])
        if listener not in listeners:
            listeners.append(listener)  # type: ignore[arg-type]  # keyed by the type it accepts

    def unsubscribe(self, event_type: type[E], listener: Callable[[E], None]) -> None:
        listeners = self._listeners.get(event_type, [])
        if listener in listeners:
            listeners.remove(listener)  # type: ignore[arg-type]

    def dispatch(self, event: DomainEvent) -> None:
        for event_type in type(event).__mro__:
            for listener in list(self._listeners.get(event_type, ())):  # type: ignore[call-overload]
                try:
                    listener(event)
                except Exception:
                    # The event's fields can hold customer text: log the type only.
                    log.exception("listener %r failed on %s", listener, type(event).__name__)


hub = EventHub()


def publish_on_commit(session: Session, event: DomainEvent) -> None:
    """Publish `event` on `hub` once this session's transaction commits; a rollback drops it."""
    # The event belongs to this unit of work: make sure one is open, so its rollback drops it.
    session.connection()
    session.info.setdefault(_INFO_KEY, []).append(event)


@sa_event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    for event in session.info.pop(_INFO_KEY, []):
        hub.dispatch(event)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: object) -> None:
    session.info.pop(_INFO_KEY, None)
