"""NATS restarts: the publishing API and the consuming workers reconnect by themselves and lose nothing.

Each test runs its own nats-server (tests/scale/conftest.py), stops it and starts it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from relaydesk.channels.base import InboundEvent
from relaydesk.config.service import apply_config
from relaydesk.container import Container, build_container
from relaydesk.core.events import DomainEvent, WorkAvailable
from relaydesk.db import make_engine, transaction
from relaydesk.models import ChannelAccount, Message
from relaydesk.pipeline.bus.base import BusConfigError, BusUnavailable, subject_of
from relaydesk.pipeline.bus.nats import NatsBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager
from tests.conftest import org_config, passwords_hashed_once
from tests.scale.conftest import PrivateNats, free_port

# Longer than the old client's whole reconnect budget (3 attempts, 2 s apart), as in the field
# report where NATS was down for 10 s.
OUTAGE_S = 10.0


class Probe(DomainEvent):
    """An event the tests tell apart by its id."""

    message_id: int | str


class Recorder:
    """A handler that remembers which message ids it saw (from the bus's worker threads)."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self, event: Probe) -> None:
        with self._lock:
            self.seen.append(event.message_id)

    def ids(self) -> set[Any]:
        with self._lock:
            return set(self.seen)


def wait_until(check: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def buses() -> Iterator[list[NatsBus]]:
    opened: list[NatsBus] = []
    yield opened
    for bus in opened:
        bus.close()


def test_publisher_and_consumer_resume_after_nats_restart(
    private_nats: PrivateNats, buses: list[NatsBus]
) -> None:
    api = NatsBus(private_nats.url, stream="RDRESTART")
    buses.append(api)
    worker = NatsBus(private_nats.url, stream="RDRESTART", ack_wait=2)
    buses.append(worker)
    handled = Recorder()
    worker.subscribe(Probe, handled)

    for i in range(10):
        api.publish(Probe(message_id=i))
    wait_until(lambda: handled.ids() == set(range(10)))

    private_nats.stop()
    time.sleep(OUTAGE_S)
    private_nats.start()  # same port, same JetStream store: the stream and the consumer survive

    # A fresh publisher first: the worker's own resumption is checked even if the API's were broken.
    fresh = NatsBus(private_nats.url, stream="RDRESTART")
    buses.append(fresh)
    for i in range(10, 15):
        fresh.publish(Probe(message_id=i))
    # The API process that lived through the outage publishes again without a restart.
    for i in range(15, 25):
        api.publish(Probe(message_id=i))
    wait_until(lambda: handled.ids() == set(range(25)))


def test_a_publish_during_the_outage_waits_for_nats_to_come_back(
    private_nats: PrivateNats, buses: list[NatsBus]
) -> None:
    api = NatsBus(private_nats.url, stream="RDWAIT", publish_timeout=120)
    buses.append(api)
    worker = NatsBus(private_nats.url, stream="RDWAIT", ack_wait=2)
    buses.append(worker)
    handled = Recorder()
    worker.subscribe(Probe, handled)

    private_nats.stop()
    outcome: list[BaseException | None] = []

    def publish() -> None:
        try:
            api.publish(Probe(message_id="during"))
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    publisher = threading.Thread(target=publish)
    publisher.start()
    time.sleep(OUTAGE_S)
    private_nats.start()
    publisher.join(timeout=150)
    assert outcome == [None]  # stored once NATS was back, not refused and not silently dropped
    wait_until(lambda: handled.ids() == {"during"})


def test_a_publish_while_nats_stays_down_fails_explicitly(
    private_nats: PrivateNats, buses: list[NatsBus]
) -> None:
    api = NatsBus(private_nats.url, stream="RDDOWN", publish_timeout=2)
    buses.append(api)
    private_nats.stop()
    # The caller (accept) lets this through, and the API answers 503 instead of claiming success.
    with pytest.raises(BusUnavailable, match="did not store the message"):
        api.publish(Probe(message_id=1))
    assert not api.connected()


def test_stream_and_consumer_are_recreated_when_nats_comes_back_empty(
    private_nats: PrivateNats, buses: list[NatsBus], tmp_path: Any
) -> None:
    api = NatsBus(private_nats.url, stream="RDEMPTY")
    buses.append(api)
    worker = NatsBus(private_nats.url, stream="RDEMPTY", ack_wait=2)
    buses.append(worker)
    handled = Recorder()
    worker.subscribe(Probe, handled)
    api.publish(Probe(message_id=0))
    wait_until(lambda: handled.ids() == {0})

    private_nats.stop()
    private_nats.start(store=tmp_path / "fresh-volume")  # the stream and the durable consumer are gone
    for i in range(1, 6):
        api.publish(Probe(message_id=i))
    wait_until(lambda: handled.ids() == set(range(6)))


def test_first_connection_to_an_absent_nats_is_a_clear_error() -> None:
    url = f"nats://user:s3cret@127.0.0.1:{free_port()}"
    with pytest.raises(BusUnavailable, match="did not answer") as caught:
        NatsBus(url, stream="RDABSENT", connect_timeout=2)
    assert "s3cret" not in str(caught.value)


def test_two_installations_with_their_own_streams_share_one_nats_server(
    private_nats: PrivateNats, buses: list[NatsBus]
) -> None:
    seen: dict[str, Recorder] = {}
    for stream in ("NORTHDESK", "SOUTHDESK"):
        api = NatsBus(private_nats.url, stream=stream)
        worker = NatsBus(private_nats.url, stream=stream, ack_wait=2)
        buses.extend([api, worker])
        seen[stream] = Recorder()
        worker.subscribe(Probe, seen[stream])
        api.publish(Probe(message_id=f"{stream}-1"))
    wait_until(lambda: all(recorder.ids() for recorder in seen.values()))
    # Another publish on each side after both were seen: still nothing crosses over.
    buses[0].publish(Probe(message_id="NORTHDESK-2"))
    buses[2].publish(Probe(message_id="SOUTHDESK-2"))
    wait_until(lambda: all(len(recorder.ids()) == 2 for recorder in seen.values()))
    assert seen["NORTHDESK"].ids() == {"NORTHDESK-1", "NORTHDESK-2"}
    assert seen["SOUTHDESK"].ids() == {"SOUTHDESK-1", "SOUTHDESK-2"}
    assert buses[0]._wire(subject_of(WorkAvailable)) == "northdesk.message.accepted"


def test_a_stream_clash_is_a_clear_error_not_a_traceback(
    private_nats: PrivateNats, buses: list[NatsBus]
) -> None:
    first = NatsBus(private_nats.url, stream="CLASHDESK")
    buses.append(first)
    # Same subjects (names differing only in case): JetStream refuses overlapping streams.
    with pytest.raises(BusConfigError, match="own RELAYDESK_BUS_STREAM"):
        NatsBus(private_nats.url, stream="clashdesk")
    # A stream of that name that carries other subjects (another installation, an older version).
    first._run(first._js.add_stream(name="OTHERDESK", subjects=["elsewhere.>"]))
    with pytest.raises(BusConfigError, match=r"carries elsewhere\.>"):
        NatsBus(private_nats.url, stream="OTHERDESK")
    with pytest.raises(BusConfigError, match="RELAYDESK_BUS_STREAM must be"):
        NatsBus(private_nats.url, stream="relay.desk")


@pytest.mark.postgres
def test_api_and_worker_process_every_message_across_a_nats_restart(
    private_nats: PrivateNats, pg_schema_url: str, tmp_path: Any
) -> None:
    """The wiring of `relaydesk serve` (publish only) and `relaydesk worker` (consume) end to end."""

    def process(consume: bool) -> Container:
        settings = Settings(
            database_url=pg_schema_url,
            data_dir=tmp_path,
            secret_key="k",
            bus_url=private_nats.url,
            bus_stream="RDPIPELINE",
            background_tasks=False,
        )
        return build_container(
            settings, engine=make_engine(pg_schema_url), triager=LexiconTriager(), consume=consume
        )

    api = process(consume=False)
    worker = process(consume=True)
    worker.workers.threads = 2
    worker.workers.start()  # what `relaydesk worker` does
    try:
        with transaction(api.sessions) as session, passwords_hashed_once():
            apply_config(session, org_config(), api.box)
            account = session.scalars(
                select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
            ).one()

        def accept(i: int) -> None:
            event = InboundEvent(
                network="generic", external_id=f"r{i}", author_id=f"a{i}", text=f"Where is order {i}?"
            )
            api.pipeline.accept(account, event)

        def processed() -> int:
            with api.sessions() as session:
                return int(
                    session.scalar(select(func.count(Message.id)).where(Message.processed_at.is_not(None)))
                    or 0
                )

        for i in range(5):
            accept(i)
        wait_until(lambda: processed() == 5)
        private_nats.stop()
        accept(10)  # accepted while NATS is away: stored with its work, found by a polling worker
        time.sleep(OUTAGE_S)
        private_nats.start()
        for i in range(5, 10):
            accept(i)
        wait_until(lambda: processed() == 11)
    finally:
        worker.close()
        api.close()
