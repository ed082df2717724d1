"""Scale-out: API processes publish to NATS JetStream, workers consume; a killed worker loses nothing.

Real PostgreSQL and real NATS (127.0.0.1:4222); skipped locally when NATS is down, failed in CI.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from relaydesk.channels.base import InboundEvent
from relaydesk.config.loader import load_config
from relaydesk.config.service import apply_config
from relaydesk.container import Container, build_container
from relaydesk.db import make_engine, transaction
from relaydesk.models import ChannelAccount, Message, TimelineEvent
from relaydesk.pipeline.bus.base import MESSAGE_ACCEPTED
from relaydesk.pipeline.bus.nats import NatsBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager

NATS_URL = os.environ.get("RELAYDESK_TEST_NATS_URL", "nats://127.0.0.1:4222")
ORG_YAML = Path(__file__).resolve().parents[1] / "fixtures" / "org.yaml"

pytestmark = pytest.mark.postgres


def _nats_up() -> bool:
    host, port = NATS_URL.removeprefix("nats://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def stream() -> Iterator[str]:
    if not _nats_up():
        if os.environ.get("CI"):
            pytest.fail(f"NATS at {NATS_URL} is required in CI but unreachable")
        pytest.skip(f"NATS at {NATS_URL} unreachable")
    name = f"RDTEST{uuid.uuid4().hex[:8].upper()}"
    yield name
    bus = NatsBus(NATS_URL, stream=name)
    bus._run(bus._js.delete_stream(name))
    bus.close()


def make(url: str, tmp: Path, stream: str, bus: NatsBus | None = None) -> Container:
    settings = Settings(
        database_url=url,
        data_dir=tmp,
        secret_key="k",
        bus_url=NATS_URL,
        bus_stream=stream,
        background_tasks=False,
    )
    return build_container(
        settings,
        engine=make_engine(url),
        triager=LexiconTriager(),
        bus=bus or NatsBus(NATS_URL, stream=stream, ack_wait=2),
    )


def wait_until(check: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_workers_process_every_message_once_even_when_one_dies(
    pg_schema_url: str, tmp_path: Path, stream: str
) -> None:
    api = make(pg_schema_url, tmp_path, stream)
    result = load_config(ORG_YAML, allow_plain_passwords=True)
    assert result.config is not None
    with transaction(api.sessions) as session:
        apply_config(session, result.config, api.box)
        account = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
        ).one()

    # Worker A processes one message, then hangs on the second and is killed before acknowledging.
    worker_a = make(pg_schema_url, tmp_path, stream)
    processed_by_a: list[int] = []
    hang = threading.Event()

    def flaky(payload: dict[str, Any]) -> None:
        if processed_by_a:
            hang.wait(30)
            raise RuntimeError("worker killed")
        worker_a.pipeline.process(int(payload["message_id"]))
        processed_by_a.append(int(payload["message_id"]))

    worker_a.bus.subscribe(MESSAGE_ACCEPTED, flaky)
    n = 12
    for i in range(n):
        api.pipeline.accept(
            account,
            InboundEvent(
                network="generic", external_id=f"s{i}", author_id=f"a{i}", text=f"Where is order {i}?"
            ),
        )
    # A redelivered webhook publishes nothing new.
    api.pipeline.accept(
        account, InboundEvent(network="generic", external_id="s0", author_id="a0", text="Where is order 0?")
    )
    wait_until(lambda: len(processed_by_a) == 1)
    worker_a.bus.close()  # killed mid-message: its unacknowledged message goes back to the stream
    hang.set()

    worker_b = make(pg_schema_url, tmp_path, stream)
    worker_b.bus.subscribe(MESSAGE_ACCEPTED, lambda p: worker_b.pipeline.process(int(p["message_id"])))

    def all_processed() -> bool:
        with api.sessions() as session:
            done = session.scalar(select(func.count(Message.id)).where(Message.processed_at.is_not(None)))
        return done == n

    wait_until(all_processed, 90)
    with api.sessions() as session:
        assert session.scalar(select(func.count(Message.id))) == n
        triaged = session.scalar(select(func.count(TimelineEvent.id)).where(TimelineEvent.kind == "triage"))
        assert triaged == n  # processed exactly once each, despite the redelivery
    for container in (worker_b, api):
        container.close()
