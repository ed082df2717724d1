"""Accept is only accept: the intake queue (staged_events), its group commit and its workers.

A server (`background_tasks`) answers a webhook once the event is appended; workers turn it into a
message later. These run such a server with no worker threads, so each test decides when the
queue is drained.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from relaydesk.channels.base import InboundEvent
from relaydesk.db import WriterSlot, transaction
from relaydesk.models import ChannelAccount, Message, StagedEvent, WorkItem
from relaydesk.pipeline import repository, staging
from relaydesk.pipeline.staging import Stager, ToStage
from tests.api.test_webhook_and_inbox import account, post_signed


@pytest.fixture
def server(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    """The app as `serve` runs it (background work on), with no worker threads."""
    from relaydesk.app import create_app
    from relaydesk.config.service import apply_config
    from relaydesk.container import build_container
    from relaydesk.pipeline.bus.inproc import InProcessBus
    from relaydesk.settings import Settings
    from relaydesk.triage.lexicon import LexiconTriager
    from tests.conftest import org_config

    settings = Settings(
        database_url=str(engine.url),
        data_dir=tmp_path,
        secret_key="test-secret-key",
        background_tasks=True,
        worker_threads=0,
    )
    built = build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
    with transaction(built.sessions) as session:
        apply_config(session, org_config(), built.box)
    with TestClient(create_app(settings, built)) as client:
        yield client, built
    built.bus.close()


def _payload(msg_id: str, author: str = "c1", text: str = "Where is my order?") -> dict[str, Any]:
    return {"id": msg_id, "author": {"id": author}, "text": text}


def _messages(container: Any) -> list[str]:
    with container.sessions() as session:
        return sorted(str(m) for m in session.scalars(select(Message.external_id)))


def test_a_webhook_is_answered_once_the_event_is_stored_and_becomes_a_message_later(
    server: tuple[TestClient, Any],
) -> None:
    client, container = server
    generic = account(container, "north-generic")
    first = post_signed(client, generic, _payload("s-1"), "north-secret")
    assert first.status_code == 202, first.text  # type: ignore[attr-defined]
    answer = first.json()["accepted"][0]  # type: ignore[attr-defined]
    assert answer["duplicate"] is False and answer["event_id"] and answer["message_id"] is None
    assert _messages(container) == []  # nothing but the append happened on the request path
    again = post_signed(client, generic, _payload("s-1"), "north-secret").json()["accepted"][0]  # type: ignore[attr-defined]
    assert again["duplicate"] is True and again["event_id"] == answer["event_id"]
    assert container.pipeline.drain() == 1
    assert _messages(container) == ["s-1"]
    # A redelivery after that names the message it became.
    later = post_signed(client, generic, _payload("s-1"), "north-secret").json()["accepted"][0]  # type: ignore[attr-defined]
    assert later["duplicate"] is True and later["message_id"] is not None
    with container.sessions() as session:
        row = session.scalars(select(StagedEvent)).one()
    assert row.state == "done" and row.event is None and row.message_id == later["message_id"]


def test_the_work_queue_counts_events_not_yet_messages(server: tuple[TestClient, Any]) -> None:
    client, container = server
    generic = account(container, "north-generic")
    for n in range(3):
        post_signed(client, generic, _payload(f"q-{n}", author=f"q{n}"), "north-secret")
    with container.sessions() as session:
        stats = repository.stats(session)
    assert stats.pending == 3 and stats.oldest_pending_at is not None
    container.pipeline.drain()
    with container.sessions() as session:
        assert repository.stats(session).pending == 0


def test_a_bad_signature_and_an_unknown_account_still_get_their_4xx(server: tuple[TestClient, Any]) -> None:
    client, container = server
    generic = account(container, "north-generic")
    assert post_signed(client, generic, _payload("b-1"), "wrong-secret").status_code == 403  # type: ignore[attr-defined]
    assert post_signed(client, 999_999, _payload("b-2"), "north-secret").status_code == 404  # type: ignore[attr-defined]
    with container.sessions() as session:
        assert session.scalars(select(StagedEvent)).all() == []


def test_a_new_secret_works_at_once_and_a_deactivated_account_stops_within_a_second(
    server: tuple[TestClient, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from relaydesk.channels import plain as ingest

    client, container = server
    generic = account(container, "north-generic")
    assert post_signed(client, generic, _payload("r-1"), "north-secret").status_code == 202  # type: ignore[attr-defined]
    with transaction(container.sessions) as session:
        row = session.get(ChannelAccount, generic)
        assert row is not None
        row.credentials_encrypted = container.box.seal({"webhook_secret": "rotated-secret"})
    # The remembered secret no longer verifies: the account is read again, and the new one does.
    assert post_signed(client, generic, _payload("r-2"), "rotated-secret").status_code == 202  # type: ignore[attr-defined]
    with transaction(container.sessions) as session:
        session.execute(update(ChannelAccount).where(ChannelAccount.id == generic).values(active=False))
    monkeypatch.setattr(ingest, "ACCOUNT_SECONDS", 0.0)  # as if the second had passed
    assert post_signed(client, generic, _payload("r-3"), "rotated-secret").status_code == 404  # type: ignore[attr-defined]


def test_a_conversations_events_become_work_in_the_order_they_were_accepted(
    server: tuple[TestClient, Any],
) -> None:
    client, container = server
    generic = account(container, "north-generic")
    for n in range(5):
        post_signed(
            client, generic, _payload(f"o-{n}", author="same-author", text=f"part {n}"), "north-secret"
        )
    assert container.pipeline.materialise(limit=100) >= 1
    while container.pipeline.materialise(limit=100):
        pass
    with container.sessions() as session:
        order = session.execute(
            select(Message.external_id)
            .join(WorkItem, WorkItem.message_id == Message.id)
            .order_by(WorkItem.id)
        ).all()
    assert [row[0] for row in order] == [f"o-{n}" for n in range(5)]


def _event(n: int) -> InboundEvent:
    return InboundEvent(network="generic", external_id=f"g-{n}", author_id=f"a{n}", text="hello")


def test_concurrent_deliveries_share_commits_and_each_gets_its_own_answer(container: Any) -> None:
    generic = account(container, "north-generic")
    org_id = 1
    with container.sessions() as session:
        org_id = session.get(ChannelAccount, generic).org_id  # type: ignore[union-attr]
    commits: list[int] = []
    real = staging.write

    def counting(sessions: Any, groups: list[Any]) -> Any:
        commits.append(len(groups))
        return real(sessions, groups)

    stager = Stager(container.sessions, lambda: None, background=True)
    results: dict[int, Any] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(staging, "write", counting)

        def deliver(n: int) -> None:
            # Every fourth delivery repeats an earlier one, as a network's retry would.
            results[n] = stager.stage([ToStage(org_id, generic, _event(n - 1 if n % 4 == 3 else n))])

        threads = [threading.Thread(target=deliver, args=(n,)) for n in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert sorted(results) == list(range(40)) and sum(commits) >= 40
    by_id: dict[str, set[int]] = {}
    for staged in results.values():
        by_id.setdefault(staged[0].external_id, set()).add(staged[0].event_id)
    assert all(len(ids) == 1 for ids in by_id.values())  # a repeat maps onto the same row
    assert sum(not staged[0].duplicate for staged in results.values()) == len(by_id)
    with container.sessions() as session:
        assert len(session.scalars(select(StagedEvent)).all()) == len(by_id)


def test_one_delivery_the_database_refuses_does_not_fail_the_others_of_its_commit(container: Any) -> None:
    generic = account(container, "north-generic")
    with container.sessions() as session:
        org_id = session.get(ChannelAccount, generic).org_id  # type: ignore[union-attr]
    stager = Stager(container.sessions, lambda: None, background=True)
    real = staging.write

    def refusing(sessions: Any, groups: list[Any]) -> Any:
        if any(item.event.external_id == "g-13" for group in groups for item in group):
            raise ValueError("refused")
        return real(sessions, groups)

    outcomes: dict[int, str] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(staging, "write", refusing)

        def deliver(n: int) -> None:
            try:
                stager.stage([ToStage(org_id, generic, _event(n))])
                outcomes[n] = "stored"
            except ValueError:
                outcomes[n] = "refused"

        threads = [threading.Thread(target=deliver, args=(n,)) for n in range(10, 30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert outcomes.pop(13) == "refused"
    assert set(outcomes.values()) == {"stored"} and len(outcomes) == 19


def stuck_writes(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Make the intake queue's commits hang until the returned event is set (at most 10 s)."""
    release = threading.Event()
    real = staging.write

    def stuck(sessions: Any, groups: list[Any]) -> Any:
        release.wait(10)
        return real(sessions, groups)

    monkeypatch.setattr(staging, "write", stuck)
    return release


def test_a_stuck_intake_queue_is_a_503_not_a_hang(
    server: tuple[TestClient, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, container = server
    monkeypatch.setattr(container.pipeline.stager, "wait_seconds", 0.2)
    release = stuck_writes(monkeypatch)
    try:
        response = post_signed(client, account(container, "north-generic"), _payload("t-1"), "north-secret")
        assert response.status_code == 503  # type: ignore[attr-defined]
        assert response.headers["Retry-After"] == "5"  # type: ignore[attr-defined]
    finally:
        release.set()


def test_the_group_commit_goes_first_at_sqlites_writer_slot() -> None:
    slot = WriterSlot()
    assert slot.acquire(timeout=1)
    order: list[str] = []

    def take(name: str, urgent: bool) -> None:
        assert slot.acquire(urgent=urgent, timeout=10)
        order.append(name)
        slot.release()

    worker = threading.Thread(target=take, args=("worker", False))
    worker.start()
    threading.Event().wait(0.1)
    intake = threading.Thread(target=take, args=("intake", True))
    intake.start()
    threading.Event().wait(0.1)
    slot.release()
    worker.join(10)
    intake.join(10)
    assert order == ["intake", "worker"]
    assert slot.acquire(timeout=0.05)
    assert not slot.acquire(timeout=0.05)  # held: a second writer times out instead of hanging
    slot.release()


def test_a_crowded_commit_is_a_surge_and_it_passes(container: Any) -> None:
    from concurrent.futures import Future

    generic = account(container, "north-generic")
    with container.sessions() as session:
        org_id = session.get(ChannelAccount, generic).org_id  # type: ignore[union-attr]
    stager = Stager(container.sessions, lambda: None, background=True)
    assert not stager.surging()
    # Deliveries that arrived while the writer was busy: the next commit carries them all.
    futures: list[Future[Any]] = []
    for n in range(staging.CROWDED + 1):
        futures.append(Future())
        stager._queue.put(([ToStage(org_id, generic, _event(100 + n))], futures[-1]))
    stager._start()
    assert all(len(f.result(30)) == 1 for f in futures)
    assert stager.surging()  # workers pause after each batch now (Pipeline.run_once)
    time.sleep(staging.SURGE_MEMORY_SECONDS + 0.1)
    assert not stager.surging()
