"""Liveness and readiness, and what callers are told while the bus cannot take messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.app import create_app
from relaydesk.container import Container, build_container
from relaydesk.core.events import DomainEvent, WorkAvailable
from relaydesk.db import make_engine
from relaydesk.models import Message
from relaydesk.pipeline.bus.base import Bus, BusUnavailable
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager
from tests.api.test_webhook_and_inbox import account, post_signed


class DownBus:
    """The real in-process bus, except that the given event types cannot be published (NATS away)."""

    def __init__(self, inner: Bus, down: set[type[DomainEvent]]) -> None:
        self.inner = inner
        self.down = down

    def publish(self, event: DomainEvent) -> None:
        if type(event) in self.down:
            raise BusUnavailable("NATS did not store the message within 10 s (TimeoutError)")
        self.inner.publish(event)

    def subscribe(self, event_type: type[Any], handler: Callable[[Any], None]) -> None:
        self.inner.subscribe(event_type, handler)

    def connected(self) -> bool:
        return not self.down

    def close(self) -> None:
        self.inner.close()


def bus_down(container: Container, *event_types: type[DomainEvent]) -> None:
    bus = DownBus(container.bus, set(event_types))
    container.bus = container.pipeline.bus = container.conversations.bus = bus


def test_ready_when_the_database_and_the_bus_answer(app_client: TestClient) -> None:
    ready = app_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "database": "ok",
        "bus": "ok",
        "queue": {"pending": 0, "oldest_pending_age_seconds": 0.0, "dead": 0},
    }


def test_readiness_shows_the_queue_and_a_long_one_does_not_make_it_unready(container: Container) -> None:
    container.pipeline._wakers.clear()  # accepted work stays queued: no worker drains it here
    acc = account(container, "north-generic")
    with TestClient(create_app(container.settings, container)) as client:
        for n in range(3):
            post_signed(client, acc, {"id": f"r{n}", "author": {"id": f"a{n}"}, "text": "hi"}, "north-secret")
        ready = client.get("/readyz")
    assert ready.status_code == 200
    queue = ready.json()["queue"]
    assert queue["pending"] == 3 and queue["dead"] == 0
    assert queue["oldest_pending_age_seconds"] >= 0.0


def test_not_ready_while_the_database_is_down_though_still_alive(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key="k", background_tasks=False)
    engine = make_engine(url, pool_pre_ping=False)
    container = build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
    with TestClient(create_app(settings, container)) as client:
        assert client.get("/healthz").status_code == 200  # liveness: the process is fine
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"] == "unavailable"
        assert ready.json()["bus"] == "ok"
        assert "database" in ready.json()["detail"]
        assert ready.headers["retry-after"]
        assert "127.0.0.1:1" not in ready.text  # the database URL is not handed out


def test_not_ready_while_the_bus_is_disconnected(container: Container) -> None:
    bus_down(container, WorkAvailable)
    with TestClient(create_app(container.settings, container)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["bus"] == "unavailable"
    assert ready.json()["database"] == "ok"


def test_a_webhook_is_accepted_while_the_bus_is_down_and_its_work_is_not_lost(container: Container) -> None:
    # The work queue lives in the database: a bus that cannot take the wake-up costs no message.
    container.pipeline._wakers.clear()
    container.pipeline.add_waker(lambda: container.bus.publish(WorkAvailable()))
    bus_down(container, WorkAvailable)
    acc = account(container, "north-generic")
    payload = {"id": "b1", "author": {"id": "a1", "name": "Ann"}, "text": "Where is my order?"}
    with TestClient(create_app(container.settings, container)) as client:
        answer = post_signed(client, acc, payload, "north-secret")
    assert answer.status_code == 202, answer.text  # type: ignore[attr-defined]
    assert container.pipeline.drain() == 1  # what a worker polling the queue does
    with container.sessions() as session:
        processed = session.scalar(select(Message.processed_at).where(Message.external_id == "b1"))
    assert processed is not None


def test_a_queue_count_that_fails_or_times_out_does_not_make_it_unready(
    container: Container, monkeypatch: Any
) -> None:
    from relaydesk.pipeline import repository

    def slow_count(*_args: Any, **_kwargs: Any) -> Any:
        raise TimeoutError("the count of a huge backlog took too long")

    monkeypatch.setattr(repository, "stats", slow_count)
    with TestClient(create_app(container.settings, container)) as client:
        ready = client.get("/readyz")
        scraped = client.get("/metrics")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "database": "ok", "bus": "ok", "queue": None}
    assert scraped.status_code == 200 and "relaydesk_queue_pending" in scraped.text
