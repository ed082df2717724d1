"""The event bus between the pipeline's stages: in-process by default, NATS JetStream to scale out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from relaydesk.core.errors import UserError

Handler = Callable[[dict[str, Any]], None]

# Subjects every deployment mode uses (the wake-up of the pipeline's workers). On NATS their first token is replaced by the installation's
# prefix (derived from its stream name), so several installations can share one NATS server.
SUBJECT_ROOT = "relaydesk"
MESSAGE_ACCEPTED = "relaydesk.message.accepted"


class BusUnavailable(Exception):
    """The bus did not take a message within its bound; the caller must not claim success (503)."""


class BusConfigError(UserError):
    """The bus cannot be used as configured (say, a stream whose subjects clash with another's)."""


class Bus(Protocol):
    def publish(self, subject: str, payload: dict[str, Any]) -> None:
        """Hand over a message; raises BusUnavailable if the bus cannot take it in time."""
        ...

    def subscribe(self, subject: str, handler: Handler) -> None: ...

    def connected(self) -> bool:
        """Whether the bus can take messages right now (readiness)."""
        ...

    def close(self) -> None: ...
