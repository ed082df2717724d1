"""The event bus between the pipeline's stages: in-process by default, NATS JetStream to scale out.

It carries typed domain events (`core.events`); on NATS each event type has its own subject and
travels as the event's JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from relaydesk.core.errors import UserError
from relaydesk.core.events import DomainEvent, WorkAvailable

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[DomainEvent], None]

# On NATS the first token of every subject is replaced by the installation's prefix (derived from
# its stream name), so several installations can share one NATS server.
SUBJECT_ROOT = "relaydesk"
# The wake-up's subject predates its event's name: kept so running installations' durable
# consumers (named after the subject) carry on after an upgrade.
_SUBJECTS: dict[type[DomainEvent], str] = {WorkAvailable: f"{SUBJECT_ROOT}.message.accepted"}


def broadcast_subject_of(event_type: type[DomainEvent]) -> str:
    """Broadcasts travel outside the stream: nothing stores them, every listener gets each one."""
    return f"{SUBJECT_ROOT}.broadcast.{event_type.__name__}"


def subject_of(event_type: type[DomainEvent]) -> str:
    """The subject an event type travels on."""
    return _SUBJECTS.get(event_type) or f"{SUBJECT_ROOT}.event.{event_type.__name__}"


class BusUnavailable(Exception):
    """The bus did not take a message within its bound; the caller must not claim success (503)."""


class BusConfigError(UserError):
    """The bus cannot be used as configured (say, a stream whose subjects clash with another's)."""


class Bus(Protocol):
    def publish(self, event: DomainEvent) -> None:
        """Hand over an event; raises BusUnavailable if the bus cannot take it in time."""
        ...

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None: ...

    def broadcast(self, event: DomainEvent) -> None:
        """Tell every process listening, now, without storing it (lost if nobody listens)."""
        ...

    def listen(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """Hear every broadcast of this type (each process gets its own copy)."""
        ...

    def connected(self) -> bool:
        """Whether the bus can take messages right now (readiness)."""
        ...

    def close(self) -> None: ...
