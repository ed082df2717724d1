"""Bus selection by URL: inproc:// (default) or nats://host:port (scale-out)."""

from __future__ import annotations

from relaydesk.pipeline.bus.base import Bus
from relaydesk.pipeline.bus.inproc import InProcessBus


def make_bus(url: str, stream: str = "RELAYDESK") -> Bus:
    if url.startswith("inproc"):
        return InProcessBus()
    if url.startswith("nats://"):
        from relaydesk.pipeline.bus.nats import NatsBus

        return NatsBus(url, stream=stream)
    raise ValueError(f"RELAYDESK_BUS_URL must start with inproc:// or nats://, got {url!r}")
