"""The durable work queue: accepted means stored with its work; every item processed once, in order."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import Message, TimelineEvent, WorkItem
from relaydesk.pipeline import repository as queue
from relaydesk.pipeline.service import MAX_ATTEMPTS
from relaydesk.pipeline.worker import PipelineWorkers
from tests.pipeline.test_pipeline import account_id, event


def stop_inline_draining(container: Container) -> None:
    """Accept as the server does: store and wake the workers, nothing else on the caller's thread."""
    container.pipeline._wakers.clear()


def work_rows(container: Container) -> list[WorkItem]:
    with container.sessions() as session:
        return list(session.scalars(select(WorkItem).order_by(WorkItem.id)))


def processed(container: Container, external_id: str) -> bool:
    with container.sessions() as session:
        at = session.scalar(select(Message.processed_at).where(Message.external_id == external_id))
    return at is not None


def make_ready(container: Container) -> None:
    """Skip the back-off delay of failed items (the test does not wait seconds for it)."""
    with transaction(container.sessions) as session:
        session.execute(update(WorkItem).values(available_at=utcnow() - timedelta(seconds=1)))


def test_an_accepted_message_is_stored_with_its_work_and_processed_only_by_a_worker(
    container: Container,
) -> None:
    stop_inline_draining(container)
    acc = account_id(container, "north-generic")
    accepted = container.pipeline.accept(acc, event("q1", "Where is my order? It is late."))
    rows = work_rows(container)
    assert [(r.message_id, r.state) for r in rows] == [(accepted.message_id, "pending")]
    assert not processed(container, "q1")  # accept did nothing more than store
    assert container.pipeline.accept(acc, event("q1", "Where is my order? It is late.")).duplicate
    assert len(work_rows(container)) == 1  # a redelivery adds no work

    workers = PipelineWorkers(container.pipeline, threads=2, poll_seconds=0.1)
    workers.start()
    try:
        deadline = time.monotonic() + 60
        while not processed(container, "q1") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        workers.stop()
    assert processed(container, "q1")
    assert work_rows(container) == []


def test_a_conversations_messages_are_handed_out_one_at_a_time_in_arrival_order(container: Container) -> None:
    stop_inline_draining(container)
    acc = account_id(container, "north-generic")
    first = container.pipeline.accept(acc, event("o1", "I want to buy the large box", author="same"))
    second = container.pipeline.accept(acc, event("o2", "Actually my order is broken", author="same"))
    other = container.pipeline.accept(acc, event("o3", "Hello", author="someone-else"))
    assert first.conversation_id == second.conversation_id != other.conversation_id
    with transaction(container.sessions) as session:
        batch = queue.claim(session, "w1", 10, timedelta(minutes=1), utcnow())
    assert [c.message_id for c in batch] == [first.message_id, other.message_id]
    with transaction(container.sessions) as session:
        # The conversation's second message waits while the first is held, even by another worker.
        assert queue.claim(session, "w2", 10, timedelta(minutes=1), utcnow()) == []
        assert queue.complete(session, batch[0].id, "w1")
    with transaction(container.sessions) as session:
        assert [c.message_id for c in queue.claim(session, "w2", 10, timedelta(minutes=1), utcnow())] == [
            second.message_id
        ]


def test_work_whose_worker_died_is_taken_by_another_once_the_lease_ends(container: Container) -> None:
    stop_inline_draining(container)
    acc = account_id(container, "north-generic")
    container.pipeline.accept(acc, event("d1", "Where is my refund?"))
    with transaction(container.sessions) as session:
        held = queue.claim(session, "dead-worker", 10, timedelta(minutes=2), utcnow())
    assert len(held) == 1
    assert container.pipeline.drain("alive") == 0  # still leased
    with transaction(container.sessions) as session:
        session.execute(update(WorkItem).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert container.pipeline.drain("alive") == 1
    assert processed(container, "d1")
    with transaction(container.sessions) as session:
        assert not queue.complete(session, held[0].id, "dead-worker")
    with container.sessions() as session:
        triaged = session.scalar(select(func.count(TimelineEvent.id)).where(TimelineEvent.kind == "triage"))
    assert triaged == 1


def test_a_poison_message_is_set_aside_and_never_blocks_the_rest(
    container: Container, monkeypatch: Any
) -> None:
    stop_inline_draining(container)
    acc = account_id(container, "north-generic")
    bad = container.pipeline.accept(acc, event("p1", "this one breaks routing", author="a"))
    container.pipeline.accept(acc, event("p2", "Where is my order?", author="b"))
    real_route = container.pipeline.routing.route

    def route(session: Any, conversation: Any, account: Any, message: Any, *rest: Any) -> Any:
        if message.id == bad.message_id:
            raise ValueError("a rule cannot read this message")
        return real_route(session, conversation, account, message, *rest)

    monkeypatch.setattr(container.pipeline.routing, "route", route)
    container.pipeline.drain()
    assert processed(container, "p2")  # the good one of the same batch committed
    for _ in range(MAX_ATTEMPTS):
        make_ready(container)
        container.pipeline.drain()
    [row] = work_rows(container)
    assert row.state == "dead"
    assert row.message_id == bad.message_id
    assert "a rule cannot read this message" in (row.last_error or "")
    assert not processed(container, "p1")
    with container.sessions() as session:
        stats = queue.stats(session)
    assert (stats.pending, stats.dead) == (0, 1)

    monkeypatch.setattr(container.pipeline.routing, "route", real_route)
    with transaction(container.sessions) as session:
        assert queue.retry_dead(session, row.org_id, None, utcnow()) == 1
    assert container.pipeline.drain() == 1
    assert processed(container, "p1")


def test_a_triage_failure_gives_the_batch_back_untouched(container: Container, monkeypatch: Any) -> None:
    stop_inline_draining(container)
    acc = account_id(container, "north-generic")
    container.pipeline.accept(acc, event("t1", "Where is my order?"))

    def broken(*_args: Any) -> Any:
        raise RuntimeError("model file unreadable")

    monkeypatch.setattr(container.pipeline.triage, "triage", broken)
    assert container.pipeline.drain() == 1
    [row] = work_rows(container)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.available_at > utcnow()  # retried after a delay, not in a hot loop
    assert not processed(container, "t1")
