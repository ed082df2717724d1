"""In-process bus: handlers run in the publisher's thread, right after the publishing commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from relaydesk.core.events import DomainEvent
from relaydesk.pipeline.bus.base import E, Handler

log = logging.getLogger(__name__)


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)
        self._listeners: dict[type[DomainEvent], list[Handler]] = defaultdict(list)
        self.published: int = 0

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        self._handlers[event_type].append(handler)  # type: ignore[arg-type]  # keyed by the type it accepts

    def publish(self, event: DomainEvent) -> None:
        self.published += 1
        for handler in list(self._handlers.get(type(event), ())):
            try:
                handler(event)
            except Exception:
                # One failing subscriber (say, the realtime push) must not undo the accepted
                # message; the pipeline's own stages are idempotent and can be re-run.
                log.exception("bus handler for %s failed", type(event).__name__)

    def listen(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        self._listeners[event_type].append(handler)  # type: ignore[arg-type]  # keyed by the type it accepts

    def broadcast(self, event: DomainEvent) -> None:
        for handler in list(self._listeners.get(type(event), ())):
            try:
                handler(event)
            except Exception:
                log.exception("broadcast listener for %s failed", type(event).__name__)

    def connected(self) -> bool:
        return True

    def close(self) -> None:
        self._handlers.clear()
        self._listeners.clear()
