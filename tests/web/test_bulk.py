"""Bulk actions from the inbox and the available/away toggle, as a browser without JavaScript and
as an API client sees them."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import Conversation, Department, User
from tests.web.test_pages import browser_login, conversation_status, csrf_of, ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _service_conversations(container: Container, prefix: str, n: int) -> list[int]:
    return [
        ingest(container, f"{prefix}-{i}", "Where is my order?", f"Customer {prefix} {i}") for i in range(n)
    ]


def _flash(page: str) -> str:
    found = re.search(r'<p class="flash [a-z]+" role="[a-z]+">(.*?)</p>', page, re.S)
    assert found is not None, "no flash message on the page"
    return html.unescape(found.group(1))


def _api_csrf(client: TestClient) -> dict[str, str]:
    meta = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', client.get("/").text)
    assert meta is not None
    return {"X-CSRF-Token": meta.group(1)}


def _assignee(container: Container, conversation_id: int) -> int | None:
    with container.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.assignee_id


def _online(container: Container, handle: str) -> bool:
    with container.sessions() as session:
        return bool(session.scalars(select(User.online).where(User.handle == handle)).one())


def test_the_inbox_offers_labelled_checkboxes_and_the_bulk_bar(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(container, "b-page", "Where is my order?", "Pat <b>Lee</b>")
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/").text
    assert 'action="/conversations/bulk"' in page and "data-bulk-bar" in page
    assert f'name="ids" value="{conv}"' in page
    assert 'aria-label="Select the conversation with Pat &lt;b&gt;Lee&lt;/b&gt;"' in page
    assert 'aria-label="Select all conversations on this page"' in page
    for action in ("resolve", "assign", "transfer"):
        assert f'name="action" value="{action}"' in page
    assert '<option value="me">me</option>' in page and '<option value="none">nobody (queue)</option>' in page
    app_client.cookies.clear()
    browser_login(app_client, "vic@test.example")  # a viewer reads, and changes nothing
    assert 'name="ids"' not in app_client.get("/").text


def test_resolve_three_at_once_and_back_to_the_same_filtered_inbox(
    app_client: TestClient, container: Container
) -> None:
    ids = _service_conversations(container, "b3", 3)
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get("/").text)
    back = "/?department=service&assignee=none"
    sent = app_client.post(
        "/conversations/bulk",
        data={"csrf": csrf, "ids": [str(i) for i in ids], "action": "resolve", "next": back},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == back
    assert _flash(app_client.get(back).text) == "3 conversations resolved."
    assert [conversation_status(container, i) for i in ids] == ["resolved"] * 3
    # An address elsewhere is not followed back.
    elsewhere = app_client.post(
        "/conversations/bulk",
        data={"csrf": csrf, "ids": [str(ids[0])], "action": "resolve", "next": "//evil.example"},
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == "/"


def test_a_conversation_the_caller_cannot_see_is_reported_not_changed(
    app_client: TestClient, container: Container
) -> None:
    sales = ingest(container, "b-sales", "How much is the gift box? I want to buy two", "lee")
    service = ingest(container, "b-service", "My coffee was cold", "pat")
    browser_login(app_client, "sally@test.example")  # sales only
    csrf = csrf_of(app_client.get("/").text)
    page = app_client.post(
        "/conversations/bulk",
        data={"csrf": csrf, "ids": [str(sales), str(service)], "action": "resolve", "next": "/"},
    ).text
    assert _flash(page) == (
        f"1 conversation resolved. 1 could not be changed: #{service} conversation {service} not found"
    )
    assert 'class="flash error"' in page
    assert conversation_status(container, sales) == "resolved"
    assert conversation_status(container, service) != "resolved"


def test_assign_and_transfer_in_bulk(app_client: TestClient, container: Container) -> None:
    ids = _service_conversations(container, "b-at", 2)
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get("/").text)
    form = {"csrf": csrf, "ids": [str(i) for i in ids], "next": "/"}
    assigned = app_client.post(
        "/conversations/bulk", data={**form, "action": "assign", "assignee_id": "none"}
    )
    assert _flash(assigned.text) == "2 conversations assigned."
    no_note = app_client.post(
        "/conversations/bulk", data={**form, "action": "transfer", "department": "sales"}
    )
    assert _flash(no_note.text) == "A hand-off needs a note for the new team."
    moved = app_client.post(
        "/conversations/bulk",
        data={**form, "action": "transfer", "department": "sales", "note": "They want to buy"},
    )
    assert _flash(moved.text) == "2 conversations transferred."
    with container.sessions() as session:
        moved_to = {session.get(Conversation, i).department_id for i in ids}  # type: ignore[union-attr]
        sales = session.scalars(select(Department.id).where(Department.key == "sales")).all()
    assert moved_to == set(sales)


def test_select_all_works_without_javascript(app_client: TestClient, container: Container) -> None:
    ids = _service_conversations(container, "b-all", 2)
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get("/").text)
    page = app_client.post(
        "/conversations/bulk",
        data={"csrf": csrf, "page_all": "1", "page_ids": [str(i) for i in ids], "action": "resolve"},
    ).text
    assert _flash(page) == "2 conversations resolved."


def test_the_bound_csrf_and_an_empty_choice(app_client: TestClient, container: Container) -> None:
    conv = ingest(container, "b-bound", "Where is my order?", "pat")
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get("/").text)
    too_many = [str(conv)] + [str(n) for n in range(100_000, 100_200)]
    bounded = app_client.post(
        "/conversations/bulk", data={"csrf": csrf, "ids": too_many, "action": "resolve"}
    )
    assert _flash(bounded.text) == "At most 200 conversations at once; you chose 201."
    forged = app_client.post(
        "/conversations/bulk", data={"csrf": "x" * 64, "ids": [str(conv)], "action": "resolve"}
    )
    assert _flash(forged.text) == "This form expired; please try again."
    nothing = app_client.post("/conversations/bulk", data={"csrf": csrf, "action": "resolve"})
    assert _flash(nothing.text) == "Tick the conversations to change first."
    assert conversation_status(container, conv) != "resolved"
    logged_out = TestClient(app_client.app)
    gone = logged_out.post("/conversations/bulk", data={"ids": [str(conv)]}, follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


def test_the_api_twin_answers_per_conversation(app_client: TestClient, container: Container) -> None:
    service = ingest(container, "b-api-s", "My coffee was cold", "pat")
    sales = ingest(container, "b-api-l", "How much is the gift box? I want to buy two", "lee")
    browser_login(app_client, "sam@test.example")  # service only
    headers = _api_csrf(app_client)
    body = {"ids": [service, sales, 999_999, service], "action": "resolve"}
    answer = app_client.post("/api/v1/conversations/bulk", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert (data["done"], data["refused"]) == (1, 2)
    assert data["results"] == [  # in the order asked, a repeated id once
        {"id": service, "ok": True, "error": None},
        {"id": sales, "ok": False, "error": f"conversation {sales} not found"},
        {"id": 999_999, "ok": False, "error": "conversation 999999 not found"},
    ]
    assert conversation_status(container, service) == "resolved"
    assert conversation_status(container, sales) != "resolved"
    too_many = app_client.post(
        "/api/v1/conversations/bulk", json={"ids": list(range(1, 202)), "action": "resolve"}, headers=headers
    )
    assert too_many.status_code == 422
    unknown = app_client.post(
        "/api/v1/conversations/bulk", json={"ids": [1], "action": "delete"}, headers=headers
    )
    assert unknown.status_code == 422
    no_note = app_client.post(
        "/api/v1/conversations/bulk",
        json={"ids": [service], "action": "transfer", "params": {"department": "sales"}},
        headers=headers,
    )
    assert no_note.status_code == 400 and "hand-off needs a note" in no_note.text
    assert app_client.post("/api/v1/conversations/bulk", json=body).status_code == 403  # no CSRF token


def test_the_away_toggle_and_routing_skipping_an_away_agent(
    app_client: TestClient, container: Container
) -> None:
    with transaction(container.sessions) as session:
        # Sam is the only one in customer service who is in: whether Sam is away decides it.
        for user in session.scalars(select(User).where(User.handle.in_(("sia", "nora")))):
            user.online = False
        sam = session.scalars(select(User).where(User.handle == "sam")).one()
        sam.online, sam_id = True, sam.id
    browser_login(app_client, "sam@test.example")
    page = app_client.get("/").text
    assert 'action="/availability"' in page and "Available" in page
    assert "routing then stops giving you new conversations" in page
    away = app_client.post(
        "/availability", data={"csrf": csrf_of(page), "online": "0", "next": "/?assignee=me"}
    )
    assert _flash(away.text) == "You are away: you get no new conversations until you are back."
    assert not _online(container, "sam") and "presence-off" in away.text
    queued = ingest(container, "b-away-1", "Where is my order?", "away 1")
    assert _assignee(container, queued) is None  # waits in the queue rather than going to Sam
    forged = app_client.post("/availability", data={"csrf": "x" * 64, "online": "1"})
    assert _flash(forged.text) == "This form expired; please try again." and not _online(container, "sam")
    headers = _api_csrf(app_client)
    back = app_client.post("/api/v1/me/availability", json={"online": True}, headers=headers)
    assert back.status_code == 200 and back.json()["online"] is True and _online(container, "sam")
    assert _assignee(container, ingest(container, "b-away-2", "Where is my order?", "away 2")) == sam_id
    assert app_client.post("/api/v1/me/availability", json={"online": False}).status_code == 403
