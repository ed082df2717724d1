"""Macros: a saved reply that, sent, also resolves, tags, sets priority or hands off."""

from __future__ import annotations

import html
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import Conversation, Department, TimelineEvent
from tests.orgconfig import apply_variant
from tests.web.test_pages import browser_login, csrf_of, ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _with_macros(config: dict[str, Any]) -> None:
    config["canned_responses"] += [
        {
            "key": "refund-done",
            "title": "Refund sent, closing",
            "texts": {"en": "Hi {customer.first_name}, the refund is sent. Anything else, just write."},
            "actions": {"status": "resolved", "tags": ["refund"], "priority": "high"},
        },
        {
            "key": "to-sales",
            "title": "Passing you to sales",
            "texts": {"en": "A colleague from sales will answer you here shortly."},
            "actions": {"transfer": "sales"},
        },
    ]


def _state(container: Container, conversation_id: int) -> tuple[str, list[str], str, str | None]:
    with container.sessions() as session:
        c = session.get(Conversation, conversation_id)
        assert c is not None
        department = session.get(Department, c.department_id) if c.department_id else None
        return c.status, list(c.tags or []), c.priority, department.key if department else None


def test_choosing_a_macro_offers_its_changes_and_sending_makes_them(
    app_client: TestClient, container: Container
) -> None:
    apply_variant(container, _with_macros)
    conversation = ingest(container, "macro-1", "Where is my refund? The order never came.", "Pat Jones")
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}", params={"canned": "refund-done"}).text
    said = "When sent, also: tags refund, priority high, resolved"
    assert said in html.unescape(page)  # beside the saved reply and, ticked, beside Send
    assert 'name="macro" id="macro-key" value="refund-done" checked' in page
    sent = app_client.post(
        f"/conversations/{conversation}/reply",
        data={"csrf": csrf_of(page), "text": "Hi Pat, the refund is sent.", "macro": "refund-done"},
    )
    assert sent.status_code == 200
    assert "Reply sent. Also done: tags refund, priority high, resolved." in html.unescape(sent.text)
    status, tags, priority, _department = _state(container, conversation)
    assert (status, priority) == ("resolved", "high") and "refund" in tags
    with container.sessions() as session:
        kinds = session.scalars(
            select(TimelineEvent.kind).where(TimelineEvent.conversation_id == conversation)
        ).all()
    assert {"reply", "tags", "priority", "status"} <= set(kinds)


def test_an_unticked_macro_sends_only_the_reply(app_client: TestClient, container: Container) -> None:
    apply_variant(container, _with_macros)
    conversation = ingest(container, "macro-2", "Refund please", "Pat")
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}").text
    sent = app_client.post(f"/conversations/{conversation}/reply", data={"csrf": csrf_of(page), "text": "Hi"})
    assert "Also done" not in sent.text
    assert _state(container, conversation)[0] != "resolved"


def test_a_macro_that_hands_off_takes_the_conversation_out_of_the_agents_inbox(
    app_client: TestClient, container: Container
) -> None:
    apply_variant(container, _with_macros)
    conversation = ingest(container, "macro-3", "Where is my refund?", "Pat")
    assert browser_login(app_client, "sam@test.example").status_code == 303  # service only
    page = app_client.get(f"/conversations/{conversation}").text
    sent = app_client.post(
        f"/conversations/{conversation}/reply",
        data={"csrf": csrf_of(page), "text": "Sales will answer.", "macro": "to-sales"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/")
    assert _state(container, conversation)[3] == "sales"


def test_a_macro_part_that_fails_never_hides_that_the_reply_went_out(
    app_client: TestClient, container: Container
) -> None:
    apply_variant(container, _with_macros)
    conversation = ingest(container, "macro-4", "Where is my refund?", "Pat")
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}").text
    sent = app_client.post(
        f"/conversations/{conversation}/reply",
        data={"csrf": csrf_of(page), "text": "Hello", "macro": "no-such-macro"},
    )
    text = html.unescape(sent.text)
    assert sent.status_code == 200 and "Reply sent." in text
    assert "The saved reply's other changes were not made" in text
    assert 'class="flash ok"' in sent.text  # the reply is not offered to be sent again


def test_the_api_runs_the_macro_after_the_reply(app_client: TestClient, container: Container) -> None:
    apply_variant(container, _with_macros)
    conversation = ingest(container, "macro-5", "Where is my refund?", "Pat")
    assert browser_login(app_client, "sam@test.example").status_code == 303
    csrf = csrf_of(app_client.get("/").text)
    offered = app_client.get(f"/api/v1/conversations/{conversation}/canned").json()
    macro = next(r for r in offered if r["key"] == "refund-done")
    assert macro["actions"] == {
        "status": "resolved",
        "tags": ["refund"],
        "priority": "high",
        "transfer": None,
    }
    answer = app_client.post(
        f"/api/v1/conversations/{conversation}/reply",
        json={"text": "Sent.", "macro": "refund-done"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["macro"]["applied"] == ["tags", "priority", "status"]
    assert body["conversation"]["status"] == "resolved"
