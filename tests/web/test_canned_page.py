"""Saved replies on the conversation page without JavaScript: listed filled, inserted by a link."""

from __future__ import annotations

import html
from typing import Any

import pytest
from fastapi.testclient import TestClient

from relaydesk.container import Container
from tests.orgconfig import apply_variant
from tests.web.test_pages import browser_login, ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def reply_box(page: str) -> str:
    return html.unescape(page.split('id="reply-text"', 1)[1].split("</textarea>", 1)[0].split(">", 1)[1])


def test_saved_replies_are_listed_filled_and_one_starts_the_reply(
    app_client: TestClient, container: Container
) -> None:
    conversation = ingest(container, "canned-1", "Where is my refund? The order never came.", "Pat Jones")
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}").text
    filled = "Hi Pat, your refund is on its way. Sam, North shop"
    assert "Saved replies" in page and "/refund" in page
    assert filled in page and "{customer.first_name}" not in page
    assert 'name="canned" value="refund"' in page
    assert f'data-answer="{filled}" data-key="refund"' in page
    started = app_client.get(f"/conversations/{conversation}", params={"canned": "refund"}).text
    assert reply_box(started) == filled
    # An unknown key starts nothing.
    assert reply_box(app_client.get(f"/conversations/{conversation}", params={"canned": "nope"}).text) == ""


def test_customer_names_are_escaped_in_the_filled_text(app_client: TestClient, container: Container) -> None:
    conversation = ingest(container, "canned-2", "Refund please", '<img src=x onerror=alert(1)> "Eve"')
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}", params={"canned": "refund"}).text
    assert "<img src=x" not in page
    assert "Hi &lt;img, your refund" in page
    assert reply_box(page).startswith("Hi <img, your refund")


def test_department_limited_replies_are_not_offered_outside_them(
    app_client: TestClient, container: Container
) -> None:
    def sales_only(config: dict[str, Any]) -> None:
        config["canned_responses"][0]["departments"] = ["sales"]

    apply_variant(container, sales_only)
    conversation = ingest(container, "canned-3", "Refund please", "Pat")
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}", params={"canned": "refund"}).text
    assert "Saved replies" not in page and reply_box(page) == ""


def test_a_viewer_is_offered_no_saved_replies(app_client: TestClient, container: Container) -> None:
    conversation = ingest(container, "canned-4", "Refund please", "Pat")
    assert browser_login(app_client, "vic@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}", params={"canned": "refund"})
    assert "Saved replies" not in page.text and 'id="reply-text"' not in page.text
