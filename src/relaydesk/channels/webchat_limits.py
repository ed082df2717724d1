"""Web-chat rate limits: in memory, per process, per client address or visitor."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


class TokenBucket:
    """Per-key token buckets; the oldest keys are forgotten beyond `max_keys` to bound memory."""

    def __init__(
        self,
        capacity: float,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed; otherwise the seconds to wait before the next attempt can pass."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.per_second)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            elif self.per_second > 0:
                wait = (1 - tokens) / self.per_second
            else:
                wait = float("inf")
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


@dataclass
class WebchatLimits:
    sessions: TokenBucket  # new visitors per client address
    messages: TokenBucket  # messages per visitor
    polls: TokenBucket  # fetches per visitor


def default_limits() -> WebchatLimits:
    return WebchatLimits(
        sessions=TokenBucket(capacity=30, per_second=0.5),
        messages=TokenBucket(capacity=8, per_second=0.5),
        polls=TokenBucket(capacity=30, per_second=1.0),
    )
