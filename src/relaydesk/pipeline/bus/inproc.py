"""In-process bus: handlers run in the publisher's thread, right after the publishing commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from relaydesk.pipeline.bus.base import Handler

log = logging.getLogger(__name__)


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self.published: int = 0

    def subscribe(self, subject: str, handler: Handler) -> None:
        self._handlers[subject].append(handler)

    def publish(self, subject: str, payload: dict[str, Any]) -> None:
        self.published += 1
        for handler in list(self._handlers.get(subject, ())):
            try:
                handler(payload)
            except Exception:
                # One failing subscriber (say, the realtime push) must not undo the accepted
                # message; the pipeline's own stages are idempotent and can be re-run.
                log.exception("bus handler for %s failed", subject)

    def connected(self) -> bool:
        return True

    def close(self) -> None:
        self._handlers.clear()
