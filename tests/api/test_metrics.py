"""/metrics: Prometheus text that moves as messages are accepted, processed, sent and breach SLAs.

The metrics live in one registry per process (core/metrics.py), shared by every test: each test
reads the values before and after what it does and checks the difference.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from relaydesk.app import create_app
from relaydesk.auth.service import create_token
from relaydesk.channels.base import OutboundRequest, SendResult
from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import Conversation, OutboxItem, User
from relaydesk.settings import Settings
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import account, ingest, post_signed

NAMES = (
    "relaydesk_accept_seconds",
    "relaydesk_processing_seconds",
    "relaydesk_batch_seconds",
    "relaydesk_processed_total",
    "relaydesk_triage_seconds",
    "relaydesk_triage_batch_seconds",
    "relaydesk_outbound_sends_total",
    "relaydesk_sla_warnings_total",
    "relaydesk_sla_breaches_total",
    "relaydesk_queue_pending",
    "relaydesk_queue_oldest_pending_age_seconds",
    "relaydesk_queue_dead",
    "relaydesk_worker_threads_alive",
)


def scrape(
    client: TestClient, headers: dict[str, str] | None = None
) -> dict[tuple[str, tuple[Any, ...]], float]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[tuple[str, tuple[Any, ...]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[Any, ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_an_accepted_and_processed_webhook(
    app_client: TestClient, container: Container
) -> None:
    before = scrape(app_client)
    text = app_client.get("/metrics").text
    for name in NAMES:
        assert f"# TYPE {name} " in text, name
    # The test container drains inline right after the accept's commit: accepted, then processed.
    ingest(app_client, container, "north-generic", "m-1", "Where is my order? It is late.")
    after = scrape(app_client)
    grew = {
        name: value(after, name, **labels) - value(before, name, **labels)
        for name, labels in (
            ("relaydesk_accept_seconds_count", {"network": "generic"}),
            ("relaydesk_processing_seconds_count", {}),
            ("relaydesk_batch_seconds_count", {}),
            ("relaydesk_processed_total", {"outcome": "done"}),
            ("relaydesk_triage_seconds_count", {"backend": "lexicon", "stage": "builtin"}),
            ("relaydesk_triage_seconds_count", {"backend": "lexicon", "stage": "org_intents"}),
            ("relaydesk_triage_batch_seconds_count", {"backend": "lexicon"}),
        )
    }
    assert grew == {
        "relaydesk_accept_seconds_count": 1,
        "relaydesk_processing_seconds_count": 1,
        "relaydesk_batch_seconds_count": 1,
        "relaydesk_processed_total": 1,
        "relaydesk_triage_seconds_count": 1,  # the org has its own intents: both stages ran once
        "relaydesk_triage_batch_seconds_count": 1,
    }
    assert value(after, "relaydesk_queue_pending") == 0
    # A request that is no inbound message is not an accept.
    app_client.get("/healthz")
    assert value(scrape(app_client), "relaydesk_accept_seconds_count", network="generic") == value(
        after, "relaydesk_accept_seconds_count", network="generic"
    )


def test_queue_gauges_are_read_from_the_database_at_scrape_time(container: Container) -> None:
    container.pipeline._wakers.clear()  # as in the server: the accept only stores the work
    acc = account(container, "north-generic")
    with TestClient(create_app(container.settings, container)) as client:
        for n in range(2):
            post_signed(client, acc, {"id": f"g{n}", "author": {"id": f"a{n}"}, "text": "hi"}, "north-secret")
        waiting = scrape(client)
        assert value(waiting, "relaydesk_queue_pending") == 2
        assert value(waiting, "relaydesk_queue_oldest_pending_age_seconds") >= 0
        container.pipeline.drain()
        drained = scrape(client)
    assert value(drained, "relaydesk_queue_pending") == 0
    assert value(drained, "relaydesk_queue_oldest_pending_age_seconds") == 0


class Answers:
    """A sender that answers from a list: what the network said to each attempt."""

    def __init__(self, *results: SendResult) -> None:
        self.results = list(results)

    async def send(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult:
        return self.results.pop(0)


def test_outbound_sends_are_counted_by_result(app_client: TestClient, container: Container) -> None:
    conversation = ingest(app_client, container, "north-generic", "s-1", "Where is my order?")
    admin = login(app_client, "admin@test.example")
    sent = app_client.post(
        f"/api/v1/conversations/{conversation}/reply", json={"text": "On its way"}, headers=admin
    )
    assert sent.status_code == 201, sent.text
    before = scrape(app_client)
    container.outbox.senders = {
        "generic": Answers(
            SendResult(ok=False, error="503", retryable=True), SendResult(ok=True, external_id="e1")
        )
    }
    asyncio.run(container.outbox.run_once())
    with transaction(container.sessions) as session:
        session.execute(update(OutboxItem).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    asyncio.run(container.outbox.run_once())
    after = scrape(app_client)
    for result in ("retried", "sent"):
        grew = value(after, "relaydesk_outbound_sends_total", network="generic", result=result) - value(
            before, "relaydesk_outbound_sends_total", network="generic", result=result
        )
        assert grew == 1, result
    assert value(after, "relaydesk_outbound_sends_total", network="generic", result="failed") == value(
        before, "relaydesk_outbound_sends_total", network="generic", result="failed"
    )


def test_sla_warnings_and_breaches_are_counted_once(app_client: TestClient, container: Container) -> None:
    first = ingest(app_client, container, "north-generic", "b-1", "Where is my order?", author="x1")
    second = ingest(app_client, container, "north-generic", "b-2", "Where is my parcel?", author="x2")
    before = scrape(app_client)
    now = utcnow()
    with transaction(container.sessions) as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id == first)
            .values(next_response_due=now - timedelta(minutes=1))
        )
        session.execute(
            update(Conversation)
            .where(Conversation.id == second)
            .values(next_response_due=now + timedelta(minutes=1))
        )
    container.conversations.tick()
    container.conversations.tick()  # nothing new: a clock is warned and breached once
    after = scrape(app_client)
    assert value(after, "relaydesk_sla_breaches_total") - value(before, "relaydesk_sla_breaches_total") == 1
    assert value(after, "relaydesk_sla_warnings_total") - value(before, "relaydesk_sla_warnings_total") == 1


def token_for(container: Container, email: str) -> dict[str, str]:
    with transaction(container.sessions) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        _row, secret = create_token(session, user, "metrics", 1)
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("public", [None, False])
def test_in_production_only_owners_and_admins_read_metrics(container: Container, public: bool | None) -> None:
    container.settings = container.settings.model_copy(
        update={"mode": "production", "metrics_public": public}
    )
    with TestClient(create_app(container.settings, container)) as client:
        anonymous = client.get("/metrics")
        assert anonymous.status_code == 401
        assert "relaydesk_" not in anonymous.text
        agent = client.get("/metrics", headers=token_for(container, "sam@test.example"))
        assert (
            agent.status_code == 403 and agent.json()["detail"] == "only owners and admins can read /metrics"
        )
        assert (
            "relaydesk_queue_pending"
            in client.get("/metrics", headers=token_for(container, "admin@test.example")).text
        )


def test_metrics_public_opens_them_in_production_and_closes_them_in_development(container: Container) -> None:
    assert Settings(mode="development").metrics_open
    assert not Settings(mode="production").metrics_open
    container.settings = container.settings.model_copy(update={"mode": "production", "metrics_public": True})
    with TestClient(create_app(container.settings, container)) as client:
        assert client.get("/metrics").status_code == 200
    container.settings = container.settings.model_copy(
        update={"mode": "development", "metrics_public": False}
    )
    with TestClient(create_app(container.settings, container)) as client:
        assert client.get("/metrics").status_code == 401
