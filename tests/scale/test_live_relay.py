"""Live push across processes: a change committed by one process reaches pages open on another.

Two buses on a real nats-server stand for two API processes, each with its own live feed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from relaydesk.core.events import MessageAccepted, NotificationCreated
from relaydesk.core.live import LiveFeed, LiveSignal
from relaydesk.pipeline.bus.nats import NatsBus
from tests.scale.conftest import PrivateNats


def _wait(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _process(url: str) -> tuple[NatsBus, LiveFeed]:
    bus = NatsBus(url, stream="RDLIVE")
    feed = LiveFeed()
    feed.add_relay(bus.broadcast)
    bus.listen(LiveSignal, feed.relayed)
    return bus, feed


def test_a_signal_committed_on_one_process_reaches_every_other_once(private_nats: PrivateNats) -> None:
    (bus_a, feed_a), (bus_b, feed_b), (bus_c, feed_c) = (_process(private_nats.url) for _ in range(3))
    try:
        feed_a.publish(MessageAccepted(org_id=1, conversation_id=42, message_id=7))
        feed_a.publish(NotificationCreated(org_id=1, user_id=3, kind="mention"))
        assert _wait(lambda: len(feed_b.since(0)[0]) == 2 and len(feed_c.since(0)[0]) == 2)
        time.sleep(0.3)  # nothing more arrives: no echo back to A, no copy twice
        assert [(s.kind, s.conversation_id, s.user_id) for s in feed_b.since(0)[0]] == [
            ("MessageAccepted", 42, None),
            ("NotificationCreated", None, 3),
        ]
        assert len(feed_a.since(0)[0]) == 2 and len(feed_c.since(0)[0]) == 2
    finally:
        for bus in (bus_a, bus_b, bus_c):
            bus.close()


def test_signals_flow_again_after_a_nats_restart(private_nats: PrivateNats) -> None:
    (bus_a, feed_a), (bus_b, feed_b) = (_process(private_nats.url) for _ in range(2))
    try:
        private_nats.stop()
        private_nats.start()

        # Pages missed what happened while NATS was away (they reload on their fallback); what
        # comes after the reconnect flows again without restarting anything.
        def delivered() -> bool:
            feed_a.publish(MessageAccepted(org_id=1, conversation_id=9, message_id=1))
            return _wait(lambda: any(s.conversation_id == 9 for s in feed_b.since(0)[0]), 1.0)

        assert _wait(delivered, 30.0)
    finally:
        for bus in (bus_a, bus_b):
            bus.close()
