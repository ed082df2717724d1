"""Automatic answers through the real pipeline: the away message when the place is closed, an
approved FAQ answer for a clear first question, nothing on a crisis, and the conversation left
open for a person."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.models import Conversation, Message, OutboxItem, TimelineEvent
from relaydesk.sla.clock import BusinessCalendar
from relaydesk.sla.service import SlaService
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

AWAY = {"en": "We are closed and answer from {opens}.", "fa": "بسته‌ایم و از {opens} پاسخ می‌دهیم."}


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every place is closed now: open one minute a week, on a day three days from today."""
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(utcnow().weekday() + 3) % 7]
    calendar = BusinessCalendar.from_config({day: [["09:00", "09:01"]]}, [], "Asia/Tehran")
    monkeypatch.setattr(SlaService, "location_calendar", lambda self, session, conversation: calendar)


def _automatic(container: Container, conversation_id: int) -> list[Message]:
    with container.sessions() as session:
        rows = session.scalars(
            select(Message).where(Message.conversation_id == conversation_id, Message.direction == "outbound")
        ).all()
        return [m for m in rows if (m.raw or {}).get("automatic")]


def test_off_by_default_nothing_is_sent(app_client: TestClient, container: Container, closed: None) -> None:
    convo = ingest(app_client, container, "north-generic", "o1", "سلام، سفارشم کی می‌رسد؟", "p1")
    assert _automatic(container, convo) == []


def test_the_away_message_goes_once_and_the_conversation_waits_for_a_person(
    app_client: TestClient, container: Container, closed: None
) -> None:
    petra = login(app_client, "petra@test.example")
    sam = login(app_client, "sam@test.example")
    body = {"away": {"enabled": True, "texts": AWAY}}
    assert (
        app_client.put("/api/v1/accounts/north-generic/auto-answers", json=body, headers=sam).status_code
        == 403
    )
    saved = app_client.put("/api/v1/accounts/north-generic/auto-answers", json=body, headers=petra)
    assert saved.status_code == 200 and saved.json()["away"]["enabled"] is True
    convo = ingest(
        app_client, container, "north-generic", "a1", "سلام، سفارشم کی می‌رسد؟ خیلی وقته منتظرم", "p2"
    )
    sent = _automatic(container, convo)
    assert len(sent) == 1 and sent[0].raw["automatic"] == "away" and sent[0].author_user_id is None
    assert sent[0].text.startswith("بسته‌ایم و از ") and "{opens}" not in sent[0].text
    with container.sessions() as session:
        conversation = session.get(Conversation, convo)
        assert conversation is not None and conversation.first_response_at is None  # a person still answers
        assert conversation.status in ("new", "open")
        assert session.scalar(select(OutboxItem).where(OutboxItem.message_id == sent[0].id)) is not None
        assert session.scalar(
            select(TimelineEvent).where(
                TimelineEvent.conversation_id == convo, TimelineEvent.kind == "auto_answer"
            )
        )
    ingest(app_client, container, "north-generic", "a2", "کسی هست؟", "p2")  # the same conversation
    assert len(_automatic(container, convo)) == 1  # once in 12 hours
    page = app_client.get(f"/api/v1/conversations/{convo}", headers=sam).json()
    automatic = [m for m in page["messages"] if m.get("automatic")]
    assert automatic and automatic[0]["automatic"] == "away" and automatic[0]["author"] == "RelayDesk"


def test_a_crisis_message_gets_no_automatic_answer(
    app_client: TestClient, container: Container, closed: None
) -> None:
    petra = login(app_client, "petra@test.example")
    body = {"away": {"enabled": True, "texts": AWAY}}
    assert (
        app_client.put("/api/v1/accounts/north-generic/auto-answers", json=body, headers=petra).status_code
        == 200
    )
    convo = ingest(
        app_client,
        container,
        "north-generic",
        "c1",
        "We got food poisoning after eating at your shop, I will sue",
        "p3",
    )
    assert _automatic(container, convo) == []


def test_a_clear_first_question_gets_the_approved_answer(
    app_client: TestClient, container: Container, closed: None
) -> None:
    petra = login(app_client, "petra@test.example")
    body = {"faq": {"enabled": True, "min_score": 0.3, "min_margin": 0.0}}
    assert (
        app_client.put("/api/v1/accounts/north-generic/auto-answers", json=body, headers=petra).status_code
        == 200
    )
    convo = ingest(app_client, container, "north-generic", "f1", "Hi! When are you open?", "p4")
    sent = _automatic(container, convo)
    # The fixture's approved entry "hours": "When are you open?" -> "Every day 8–20."
    assert len(sent) == 1 and sent[0].raw == {"automatic": "faq", "faq_key": "hours"}
    assert sent[0].text == "Every day 8–20."
    assert app_client.get("/api/v1/faq/hours", headers=petra).json()["usage_count"] == 1
    later = ingest(app_client, container, "north-generic", "f2", "And on holidays? When are you open?", "p4")
    assert later == convo and len(_automatic(container, convo)) == 1  # only the first message


def test_bad_settings_are_refused_and_nothing_changes(app_client: TestClient, container: Container) -> None:
    petra = login(app_client, "petra@test.example")
    refused = app_client.put(
        "/api/v1/accounts/north-generic/auto-answers",
        json={"away": {"enabled": True, "texts": {}}},
        headers=petra,
    )
    assert refused.status_code == 422 and "away.texts" in refused.text
    assert (
        app_client.get("/api/v1/accounts/north-generic/auto-answers", headers=petra).json()["away"]["enabled"]
        is False
    )
    assert app_client.get("/api/v1/accounts/nowhere/auto-answers", headers=petra).status_code == 404
