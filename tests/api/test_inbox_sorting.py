"""Sorting the inbox: each order walks every conversation once, page by page, in its order."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from relaydesk.container import Container
from relaydesk.models import Conversation
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest
from tests.web.test_pages import browser_login

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _seed(client: TestClient, container: Container) -> dict[str, int]:
    """Five conversations whose waiting times, deadlines, priorities and activity differ."""
    shape = {
        # name: (waiting since, next response due, priority, last activity)
        "a": (T0 + timedelta(minutes=30), T0 + timedelta(hours=3), "normal", T0 + timedelta(minutes=50)),
        "b": (T0, T0 + timedelta(hours=1), "high", T0 + timedelta(minutes=10)),
        "c": (None, None, "urgent", T0 + timedelta(minutes=40)),
        "d": (T0 + timedelta(minutes=5), T0 - timedelta(minutes=5), "normal", T0 + timedelta(minutes=20)),
        "e": (None, None, "normal", T0 + timedelta(minutes=20)),  # same activity as d: the id decides
    }
    ids = {
        name: ingest(client, container, "north-generic", f"sort-{name}", "Where is my order?", f"s-{name}")
        for name in shape
    }
    with container.sessions() as session, session.begin():
        for name, (waiting, due, priority, last) in shape.items():
            row = session.get(Conversation, ids[name])
            assert row is not None
            row.awaiting_since, row.next_response_due, row.priority, row.last_message_at = (
                waiting,
                due,
                priority,
                last,
            )
    return ids


def _walk(client: TestClient, headers: dict[str, str], sort: str, ids: dict[str, int]) -> list[str]:
    names = {v: k for k, v in ids.items()}
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, object] = {"sort": sort, "limit": 2, "status": "all"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/conversations", params=params, headers=headers)
        assert page.status_code == 200, page.text
        seen += [names[c["id"]] for c in page.json()["items"] if c["id"] in names]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("the pages never ended")


def test_each_sort_walks_every_conversation_once_in_its_order(
    app_client: TestClient, container: Container
) -> None:
    ids = _seed(app_client, container)
    ada = login(app_client, "admin@test.example")
    d_before_e = ids["d"] > ids["e"]  # same activity: the newer id first
    assert _walk(app_client, ada, "newest", ids) == [
        "a",
        "c",
        *(("d", "e") if d_before_e else ("e", "d")),
        "b",
    ]
    assert _walk(app_client, ada, "waiting", ids) == ["b", "d", "a", *sorted("ce", key=ids.get)]
    assert _walk(app_client, ada, "due", ids) == ["d", "b", "a", *sorted("ce", key=ids.get)]
    assert _walk(app_client, ada, "priority", ids) == [
        "c",
        "b",
        "a",
        *(("d", "e") if d_before_e else ("e", "d")),
    ]


def test_a_wrong_sort_or_another_sorts_cursor_is_refused(
    app_client: TestClient, container: Container
) -> None:
    ids = _seed(app_client, container)
    ada = login(app_client, "admin@test.example")
    bad = app_client.get("/api/v1/conversations", params={"sort": "oldest"}, headers=ada)
    assert (
        bad.status_code == 422 and "sort: 'oldest' is not one of newest, waiting, due, priority" in bad.text
    )
    first = app_client.get(
        "/api/v1/conversations", params={"sort": "waiting", "limit": 1}, headers=ada
    ).json()
    assert first["items"][0]["id"] == ids["b"]
    other = app_client.get(
        "/api/v1/conversations", params={"sort": "due", "cursor": first["next_cursor"]}, headers=ada
    )
    assert other.status_code == 400 and "cursor" in other.text


def test_the_inbox_page_offers_the_orders_and_keeps_the_choice(
    app_client: TestClient, container: Container
) -> None:
    ids = _seed(app_client, container)
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/", params={"sort": "due", "status": "all"}).text
    assert '<option value="due" selected>SLA due soonest</option>' in page
    rows = [int(i) for i in re.findall(r'data-href="/conversations/(\d+)"', page)]
    assert [r for r in rows if r in ids.values()][:3] == [ids["d"], ids["b"], ids["a"]]
