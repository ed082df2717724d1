"""The webhook door (channels/door.py) and what made a surge cheap at the intake queue.

The door answers a plain delivery before the framework's stack; these check that it answers
exactly as the route would, and hands everything else on. The rest guards the fixes measured
with `relaydesk bench ingest`: one wake-up of the event loop per group commit, workers leaving
the writer slot to a waiting group commit, and a surge share that is the workers' total, not
each thread's.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from relaydesk import db
from relaydesk.channels.service import IngestService
from relaydesk.core.metrics import REGISTRY
from relaydesk.db import transaction, urgent_writer_waiting
from relaydesk.models import ChannelAccount
from relaydesk.pipeline import materialise, staging
from relaydesk.pipeline import service as pipeline_service
from relaydesk.pipeline.staging import Stager, StagingTimeout, ToStage
from relaydesk.web import unavailable
from tests.api.test_webhook_and_inbox import account, post_signed
from tests.pipeline.test_staging import _event, _payload, stuck_writes
from tests.pipeline.test_staging import server as server  # the fixture, used by name

Server = tuple[TestClient, Any]


def _accepts() -> float:
    return REGISTRY.get_sample_value("relaydesk_accept_seconds_count", {"network": "generic"}) or 0.0


@pytest.fixture
def full_way_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the deliveries the route's full way (`IngestService.account_delivery`) handled."""
    calls: list[int] = []
    real = IngestService.account_delivery

    def counted(self: IngestService, account_id: int, *args: Any) -> Any:
        calls.append(account_id)
        return real(self, account_id, *args)

    monkeypatch.setattr(IngestService, "account_delivery", counted)
    yield calls


def test_the_door_answers_a_plain_delivery_as_the_route_does(
    server: Server, full_way_calls: list[int]
) -> None:
    client, container = server
    generic = account(container, "north-generic")
    # The account is not remembered yet: the first delivery goes the full way.
    first = post_signed(client, generic, _payload("d-1", author="d1"), "north-secret")
    assert full_way_calls == [generic]
    before = _accepts()
    second = post_signed(client, generic, _payload("d-2", author="d2"), "north-secret")
    assert full_way_calls == [generic]  # the door answered this one
    assert _accepts() == before + 1  # and timed it as the route is timed
    for response in (first, second):
        assert response.status_code == 202  # type: ignore[attr-defined]
        headers = response.headers  # type: ignore[attr-defined]
        assert headers["content-type"] == "application/json"
        assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"
    one, two = first.json(), second.json()  # type: ignore[attr-defined]
    assert one.keys() == two.keys()
    assert two["accepted"][0]["external_id"] == "d-2" and two["accepted"][0]["duplicate"] is False
    again = post_signed(client, generic, _payload("d-2", author="d2"), "north-secret").json()  # type: ignore[attr-defined]
    assert again["accepted"][0]["duplicate"] is True
    assert again["accepted"][0]["event_id"] == two["accepted"][0]["event_id"]


def test_what_the_door_cannot_decide_goes_the_full_way(server: Server, full_way_calls: list[int]) -> None:
    client, container = server
    generic = account(container, "north-generic")
    post_signed(client, generic, _payload("f-1"), "north-secret")  # remembered from now on
    full_way_calls.clear()
    wrong = post_signed(client, generic, _payload("f-2"), "wrong-secret")
    assert wrong.status_code == 403  # type: ignore[attr-defined]
    import json

    from relaydesk.channels.generic import sign

    body = json.dumps(_payload("f-3")).encode()
    # No Content-Length (chunked): the app's body limit counts it while it streams.
    chunked = client.post(
        f"/webhooks/generic/{generic}",
        content=iter([body[:10], body[10:]]),
        headers={"Content-Type": "application/json", "X-RelayDesk-Signature": sign(body, "north-secret")},
    )
    assert chunked.status_code == 202, chunked.text
    assert full_way_calls == [generic, generic]


def test_a_stuck_intake_queue_at_the_door_is_a_503(
    server: Server, full_way_calls: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, container = server
    generic = account(container, "north-generic")
    post_signed(client, generic, _payload("s-0"), "north-secret")
    full_way_calls.clear()
    monkeypatch.setattr(container.pipeline.stager, "wait_seconds", 0.2)
    release = stuck_writes(monkeypatch)
    try:
        response = post_signed(client, generic, _payload("s-1"), "north-secret")
        assert response.status_code == 503  # type: ignore[attr-defined]
        assert response.headers["Retry-After"] == unavailable.RETRY_AFTER  # type: ignore[attr-defined]
        assert response.json() == {"detail": unavailable.INTAKE}  # type: ignore[attr-defined]
        assert full_way_calls == []  # not waited out a second time the full way
    finally:
        release.set()


def _org_and_account(container: Any) -> tuple[int, int]:
    generic = account(container, "north-generic")
    with container.sessions() as session:
        row = session.get(ChannelAccount, generic)
        assert row is not None
        return row.org_id, generic


def test_requests_on_an_event_loop_are_woken_once_per_commit(
    container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id, generic = _org_and_account(container)
    stager = Stager(container.sessions, lambda: None, background=True)
    commits: list[int] = []
    wakeups: list[int] = []
    real_write, real_settle = staging.write, staging._settle

    def counting_write(sessions: Any, groups: list[Any]) -> Any:
        commits.append(len(groups))
        return real_write(sessions, groups)

    def counting_settle(settled: list[Any]) -> None:
        wakeups.append(len(settled))
        real_settle(settled)

    monkeypatch.setattr(staging, "write", counting_write)
    monkeypatch.setattr(staging, "_settle", counting_settle)

    async def deliver_all() -> list[Any]:
        return await asyncio.gather(
            *(stager.stage_async([ToStage(org_id, generic, _event(200 + n))]) for n in range(30))
        )

    results = asyncio.run(deliver_all())
    assert [r[0].external_id for r in results] == [f"g-{200 + n}" for n in range(30)]
    assert len({r[0].event_id for r in results}) == 30
    assert sum(commits) == 30 and sum(wakeups) == 30
    assert len(wakeups) == len(commits)  # one wake-up of the loop per commit, not per request


def test_a_request_on_the_event_loop_times_out_and_a_late_commit_is_harmless(
    container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id, generic = _org_and_account(container)
    stager = Stager(container.sessions, lambda: None, background=True, wait_seconds=0.2)
    release = threading.Event()
    committed = threading.Event()
    real = staging.write

    def stuck(sessions: Any, groups: list[Any]) -> Any:
        release.wait(10)
        try:
            return real(sessions, groups)
        finally:
            committed.set()

    monkeypatch.setattr(staging, "write", stuck)

    async def deliver() -> None:
        with pytest.raises(StagingTimeout):
            await stager.stage_async([ToStage(org_id, generic, _event(300))])
        release.set()
        await asyncio.to_thread(committed.wait, 10)
        await asyncio.sleep(0.05)  # the late answer reaches a future that is already done

    asyncio.run(deliver())
    assert committed.is_set()


def test_a_worker_transaction_sees_a_waiting_group_commit(container: Any) -> None:
    if container.engine.dialect.name != "sqlite":
        with container.sessions() as session:
            assert not urgent_writer_waiting(session)  # PostgreSQL has no single writer slot
        return
    org_id, generic = _org_and_account(container)
    done = threading.Event()

    def group_commit() -> None:
        staging.write(container.sessions, [[ToStage(org_id, generic, _event(400))]])
        done.set()

    with transaction(container.sessions) as session:
        session.execute(text("SELECT 1"))  # the transaction begins: it holds the writer slot
        assert not urgent_writer_waiting(session)
        writer = threading.Thread(target=group_commit)
        writer.start()
        deadline = time.monotonic() + 10
        while not urgent_writer_waiting(session) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert urgent_writer_waiting(session)
        assert not done.is_set()  # it waits for this transaction to end
    writer.join(10)
    assert done.is_set()


def test_materialising_stops_taking_rows_once_a_group_commit_waits(
    container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id, generic = _org_and_account(container)
    staged = materialise.RUN + 5
    staging.write(container.sessions, [[ToStage(org_id, generic, _event(500 + n))] for n in range(staged)])
    monkeypatch.setattr(db, "urgent_writer_waiting", lambda session: True)
    monkeypatch.setattr(db, "URGENT_BUDGET_SECONDS", 0.0)
    # One run of events stored together, then the slot is given up.
    assert container.pipeline.materialise(limit=64) == materialise.RUN
    monkeypatch.undo()
    rest = 0
    while (handled := container.pipeline.materialise(limit=64)) > 0:
        rest += handled
    assert rest == 5


def test_the_surge_share_is_the_workers_total_not_each_threads(
    container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One thread: 10 ms of work, 30 ms of pause (25 %); two threads: 70 ms each (12.5 % each).
    assert abs(pipeline_service.surge_pause(0.01, 1) - 0.03) < 1e-9
    assert abs(pipeline_service.surge_pause(0.01, 2) - 0.07) < 1e-9
    assert pipeline_service.surge_pause(10.0, 2) == pipeline_service.SURGE_PAUSE_MAX
    org_id, generic = _org_and_account(container)
    staging.write(container.sessions, [[ToStage(org_id, generic, _event(600 + n))] for n in range(4)])
    pipeline = container.pipeline
    monkeypatch.setattr(pipeline, "surging", lambda: True)
    pauses: list[float] = []
    monkeypatch.setattr(pipeline_service.time, "sleep", pauses.append)
    assert pipeline.run_once("test-owner", 32, threads=2) > 0
    assert len(pauses) == 1 and pauses[0] > 0


def test_a_webhook_reads_its_account_while_a_worker_holds_the_writer(container: Any) -> None:
    """Every read on the webhook's way began `BEGIN IMMEDIATE` and queued for SQLite's writer
    behind the workers (found with the intake queue): a refusal waited for a batch to commit."""
    import json

    from relaydesk.channels import plain
    from relaydesk.channels.deliveries import WebhookRefused
    from relaydesk.channels.generic import sign

    generic = account(container, "north-generic")
    holding, release = threading.Event(), threading.Event()

    def worker() -> None:
        with transaction(container.sessions) as session:
            session.execute(text("SELECT 1"))  # holds the writer (on SQLite) until released
            holding.set()
            release.wait(20)

    holder = threading.Thread(target=worker)
    holder.start()
    assert holding.wait(10)
    outcomes: list[object] = []

    def deliver() -> None:
        outcomes.append(plain.cached_account(container, generic, fresh=True))
        body = json.dumps(_payload("w-1")).encode()
        headers = {"Content-Type": "application/json", "X-RelayDesk-Signature": sign(body, "wrong-secret")}
        try:
            IngestService(container).account_delivery(generic, "generic", body, headers)
        except WebhookRefused as exc:
            outcomes.append(exc.status_code)

    try:
        reader = threading.Thread(target=deliver)
        reader.start()
        reader.join(5)  # the writer stays held: only reads that do not queue for it finish
        assert not reader.is_alive()
        first = outcomes[0]
        assert isinstance(first, ChannelAccount) and first.id == generic
        assert outcomes[1] == 403
    finally:
        release.set()
        holder.join(20)
