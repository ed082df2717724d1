"""The event bus between the pipeline's stages: in-process by default, NATS JetStream to scale out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Handler = Callable[[dict[str, Any]], None]

# Subjects every deployment mode uses.
MESSAGE_ACCEPTED = "relaydesk.message.accepted"
CONVERSATION_UPDATED = "relaydesk.conversation.updated"
ALERT_RAISED = "relaydesk.alert.raised"


class Bus(Protocol):
    def publish(self, subject: str, payload: dict[str, Any]) -> None: ...

    def subscribe(self, subject: str, handler: Handler) -> None: ...

    def close(self) -> None: ...
