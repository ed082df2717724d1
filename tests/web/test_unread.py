"""Unread rows and the newest message on each inbox row, per reader, in the page and the API."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from relaydesk.container import Container
from relaydesk.conversations.reading import PREVIEW, is_unread, preview
from tests.api.conftest import login
from tests.web.test_pages import browser_login, csrf_of, ingest


def _row(html: str, conversation_id: int) -> str:
    found = re.search(
        rf'<tr class="([^"]*)" data-href="/conversations/{conversation_id}">(.*?)</tr>', html, re.S
    )
    assert found is not None, f"conversation {conversation_id} is not in the inbox"
    return found.group(1) + found.group(2)


def test_a_row_is_unread_until_its_reader_opens_it_and_again_when_the_customer_writes(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(container, "u1", "Where is my order 1234?", "lea")
    browser_login(app_client, "admin@test.example")
    assert "unread" in _row(app_client.get("/").text, conv)
    page = app_client.get(f"/conversations/{conv}")
    assert page.status_code == 200
    row = _row(app_client.get("/").text, conv)
    assert "unread" not in row and "unread-dot" not in row
    # Our reply is the newest message: the row says so, and stays read.
    app_client.post(
        f"/conversations/{conv}/reply", data={"text": "It left the shop today.", "csrf": csrf_of(page.text)}
    )
    row = _row(app_client.get("/").text, conv)
    assert "Our reply:" in row and "It left the shop today." in row and "unread" not in row
    # The customer writes again: unread, with the new message under the subject.
    assert ingest(container, "u2", "Thanks!\n\nAnd\ttomorrow?", "lea") == conv
    row = _row(app_client.get("/").text, conv)
    assert "unread" in row and "Thanks! And tomorrow?" in row and "Our reply:" not in row


def test_unread_is_each_readers_own_and_the_api_says_it(app_client: TestClient, container: Container) -> None:
    conv = ingest(container, "u3", "Do you deliver on Sundays?", "max")
    ada, sam = login(app_client, "admin@test.example"), login(app_client, "sam@test.example")

    def listed(headers: dict[str, str]) -> dict[str, object]:
        items = app_client.get("/api/v1/conversations", headers=headers).json()["items"]
        return next(c for c in items if c["id"] == conv)

    first = listed(ada)
    assert first["unread"] is True and first["last_message_direction"] == "inbound"
    assert app_client.post(f"/api/v1/conversations/{conv}/read", headers=ada).status_code == 204
    assert listed(ada)["unread"] is False
    assert listed(sam)["unread"] is True  # sam has not read it
    # Someone who may not see a conversation cannot mark it either (nor learn it exists).
    sales = login(app_client, "sally@test.example")
    assert app_client.post(f"/api/v1/conversations/{conv}/read", headers=sales).status_code == 404


@pytest.mark.parametrize(
    ("newest_inbound", "opened", "read_up_to", "unread"),
    [
        (None, False, None, False),
        (5, False, None, True),
        (5, True, 5, False),
        (7, True, 5, True),
        (5, True, None, True),
    ],
)
def test_unread_means_the_customer_wrote_since_it_was_opened(
    newest_inbound: int | None, opened: bool, read_up_to: int | None, unread: bool
) -> None:
    assert is_unread(newest_inbound, opened, read_up_to) is unread


def test_a_preview_is_one_line_and_short() -> None:
    assert preview("  Hello\n\nthere \t you ") == "Hello there you"
    long = preview("سلام " * 100)
    assert len(long) == PREVIEW and long.endswith("…")
