"""Who is viewing or typing in a conversation (collision detection), kept for a few seconds.

In memory per process: in scale-out mode agents reach different API processes, so presence is
advisory there; the send-time check against newer replies (in SQL) is what stops a double answer.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

TTL_SECONDS = 30.0
STATES = ("viewing", "typing")


@dataclass(frozen=True)
class Presence:
    user_id: int
    handle: str
    state: str
    seen: float


class PresenceRegistry:
    def __init__(self, ttl: float = TTL_SECONDS, clock: object = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._by_conversation: dict[int, dict[int, Presence]] = {}

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    def touch(self, conversation_id: int, user_id: int, handle: str, state: str) -> bool:
        """Record the person's state; True when colleagues should hear of it (new, changed or expired)."""
        if state not in STATES:
            raise ValueError(f"state: one of {', '.join(STATES)}")
        now = self._now()
        with self._lock:
            present = self._by_conversation.setdefault(conversation_id, {})
            before = present.get(user_id)
            present[user_id] = Presence(user_id, handle, state, now)
        return before is None or before.state != state or before.seen < now - self._ttl

    def leave(self, conversation_id: int, user_id: int) -> None:
        with self._lock:
            self._by_conversation.get(conversation_id, {}).pop(user_id, None)

    def others(self, conversation_id: int, user_id: int) -> list[Presence]:
        cutoff = self._now() - self._ttl
        with self._lock:
            present = self._by_conversation.get(conversation_id, {})
            for uid in [uid for uid, p in present.items() if p.seen < cutoff]:
                del present[uid]
            return sorted((p for uid, p in present.items() if uid != user_id), key=lambda p: p.handle)
