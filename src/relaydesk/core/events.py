"""Typed domain events, published once the unit of work that caused them commits.

A slice publishes with `publish_on_commit(session, event)`; listeners (e-mail, outbound webhooks,
notifications, and later realtime push) subscribe to an event type on `hub`. A rolled-back unit of
work publishes nothing, so a listener never tells the world about something that did not happen.

Between processes (scale-out) the same classes travel on the bus (`pipeline/bus`), as JSON written
by `model_dump_json` and read back by `model_validate_json`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_INFO_KEY = "relaydesk_events"


class DomainEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- conversations and messages ---------------------------------------------------------------


class WorkAvailable(DomainEvent):
    """The work queue has something ready: the doorbell the bus rings for scale-out workers.

    It carries nothing: the work itself is in the database queue, which a worker reads.
    """


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


class PresenceChanged(DomainEvent):
    """Someone started viewing or typing in a conversation (in memory only: nothing to commit)."""

    org_id: int
    conversation_id: int
    user_id: int
    state: str


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
    target: str  # the response owed: "first response" or "next response"
    reason: str
    user_ids: list[int]  # who is warned (the assignee, or the department's managers)


class SlaBreach(DomainEvent):
    org_id: int
    conversation_id: int
    target: str
    reason: str


class RoutingNotifyRequested(DomainEvent):
    """A routing rule's `notify` action: the targets as the rule names them (`@handle` or
    `handle`, an e-mail address, `webhook:<name>`); the notifications slice tells them, in the
    routing transaction, about the message (read by id, so no customer text rides the event)."""

    org_id: int
    conversation_id: int
    message_id: int
    targets: list[str]
    matched_rules: list[str]


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
    name: str  # the webhook's name; its URL is looked up when posting, never put in an event
    text: str
    org_id: int | None = None  # whose stored destinations the name may also mean


E = TypeVar("E", bound=DomainEvent)


class EventHub:
    """In-process dispatch of events to the listeners of their type (and base types).

    Two kinds of listener: most run after the commit (`subscribe`); the few whose writes belong
    to the publisher's unit of work (an in-app notification row beside the SLA breach that caused
    it) run at once, inside it, with its session (`subscribe_in_transaction`).
    """

    def __init__(self) -> None:
        self._listeners: dict[type[DomainEvent], list[Callable[[DomainEvent], None]]] = {}
        self._in_transaction: dict[type[DomainEvent], list[Callable[[Session, DomainEvent], None]]] = {}

    def subscribe_in_transaction(self, event_type: type[E], listener: Callable[[Session, E], None]) -> None:
        listeners = self._in_transaction.setdefault(event_type, [])
        if listener not in listeners:
            listeners.append(listener)  # type: ignore[arg-type]  # keyed by the type it accepts

    def dispatch_in_transaction(self, session: Session, event: DomainEvent) -> None:
        # No try/except: a failure here must roll the publisher's unit of work back.
        for event_type in type(event).__mro__:
            for listener in list(self._in_transaction.get(event_type, ())):  # type: ignore[call-overload]
                listener(session, event)

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


def publish_now(event: DomainEvent) -> None:
    """Publish an event that belongs to no transaction (presence lives in memory)."""
    hub.dispatch(event)


def publish_on_commit(session: Session, event: DomainEvent) -> None:
    """Publish `event` on `hub` once this session's transaction commits; a rollback drops it.

    In-transaction listeners run now, in this session, so their writes commit or roll back with it.
    An event published inside a savepoint that rolls back is dropped with it; the rest of the
    transaction's events still go out at its commit.
    """
    hub.dispatch_in_transaction(session, event)
    # The event belongs to this unit of work: make sure one is open, so its rollback drops it.
    session.connection()
    within = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_INFO_KEY, []).append((within, event))


@sa_event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its events wait for the transaction's own commit
    for _within, event in session.info.pop(_INFO_KEY, []):
        hub.dispatch(event)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_INFO_KEY)
    if not pending:
        return
    kept = [(within, event) for within, event in pending if not _inside(within, previous_transaction)]
    if kept:
        session.info[_INFO_KEY] = kept
    else:
        session.info.pop(_INFO_KEY, None)


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
