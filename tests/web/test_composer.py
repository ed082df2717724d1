"""The reply box's helpers without JavaScript: approved answers offered, and inserted by a link."""

from __future__ import annotations

import html

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
