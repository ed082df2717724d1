"""The reply box's helpers without JavaScript: approved answers offered, and inserted by a link."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from relaydesk.container import Container
from tests.web.test_pages import browser_login, ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def test_approved_answers_are_offered_and_one_starts_the_reply(
    app_client: TestClient, container: Container
) -> None:
    conversation = ingest(container, "faq-1", "When are you open on Friday?", "Pat")
    assert browser_login(app_client, "admin@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}").text
    assert "Approved answers" in page and "Every day 8–20." in page
    assert 'name="insert" value="hours"' in page
    assert '<div class="findings" id="reply-findings"' in page  # where typing shows findings
    started = app_client.get(f"/conversations/{conversation}", params={"insert": "hours"}).text
    reply_box = started.split('id="reply-text"', 1)[1].split("</textarea>", 1)[0]
    assert html.unescape(reply_box).endswith(">Every day 8–20.")
    # An unknown key starts nothing; a read-only viewer is offered nothing to insert.
    unknown = app_client.get(f"/conversations/{conversation}", params={"insert": "nope"}).text
    assert unknown.split('id="reply-text"', 1)[1].split("</textarea>", 1)[0].endswith(">")


def test_a_viewer_gets_no_composer_helpers(app_client: TestClient, container: Container) -> None:
    conversation = ingest(container, "faq-2", "When are you open on Friday?", "Pat")
    assert browser_login(app_client, "vic@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}")
    if page.status_code == 200:  # the viewer may see it (service department) but not answer
        assert "Approved answers" not in page.text and 'id="reply-text"' not in page.text


def test_the_why_is_plain_words_and_one_click_corrects_the_triage(
    app_client: TestClient, container: Container
) -> None:
    conversation = ingest(container, "fix-1", "The coffee was cold and late again", "Pat")
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}").text
    assert "<summary>Reads as " in page and "in English" in page
    assert "How the triage decided" not in page  # model details are for administrators
    message_id = int(re.search(r'/messages/(\d+)/correct"', page).group(1))  # type: ignore[union-attr]
    token = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)  # type: ignore[union-attr]
    done = app_client.post(
        f"/conversations/{conversation}/messages/{message_id}/correct",
        data={"csrf": token, "lang": "en", "sentiment": "negative", "intent": "order_issue"},
    )
    assert "Corrected. The triage learns from it." in done.text or "Nothing to correct" in done.text
    detail = container.conversations.detail(_scope_of(container, "sam@test.example"), conversation)
    triage = next(m for m in detail.messages if m.id == message_id).triage or {}
    assert (triage.get("sentiment"), triage.get("intent")) == ("negative", "order_issue")
    again = app_client.post(
        f"/conversations/{conversation}/messages/{message_id}/correct",
        data={"csrf": token, "lang": "en", "sentiment": "negative", "intent": "order_issue"},
    )
    assert "Nothing to correct: the triage already says that." in again.text
    app_client.cookies.clear()
    assert browser_login(app_client, "admin@test.example").status_code == 303
    assert "How the triage decided" in app_client.get(f"/conversations/{conversation}").text


def _scope_of(container: Container, email: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from relaydesk.auth.service import scope_for
    from relaydesk.models import User

    with container.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        return scope_for(session, user)
