"""Escalation webhooks go out after commit, Slack-compatible, and never on rollback."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from relaydesk.db import make_engine
from relaydesk.notifications import webhooks


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append({"url": str(request.url), "body": json.loads(request.content)})
        return httpx.Response(200, text="ok")

    monkeypatch.setattr(webhooks, "_transport", httpx.MockTransport(handler))
    monkeypatch.setenv("RELAYDESK_WEBHOOK_ESCALATIONS", "https://hooks.example/T1/B2/secret")
    return calls


def wait_for(calls: list[dict[str, object]], n: int) -> None:
    deadline = time.monotonic() + 10
    while len(calls) < n and time.monotonic() < deadline:
        time.sleep(0.05)


def test_sent_after_commit_in_slack_shape(received: list[dict[str, object]], tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with Session(engine) as session:
        assert webhooks.queue(session, "escalations", "SLA breached on #7")
        assert not webhooks.queue(session, "not-configured", "x")
        assert received == []  # nothing before the commit
        session.commit()
    wait_for(received, 1)
    assert received == [{"url": "https://hooks.example/T1/B2/secret", "body": {"text": "SLA breached on #7"}}]


def test_nothing_is_sent_on_rollback(received: list[dict[str, object]], tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with Session(engine) as session:
        webhooks.queue(session, "escalations", "never")
        session.rollback()
        session.commit()
    time.sleep(0.3)
    assert received == []


def test_names_map_to_environment_variables() -> None:
    assert webhooks.env_name("pr-desk") == "RELAYDESK_WEBHOOK_PR_DESK"
