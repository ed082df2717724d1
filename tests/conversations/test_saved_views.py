"""Saved inbox views: one's own, shared ones, and who may share and remove them."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from relaydesk.container import Container
from relaydesk.conversations.saved_views import clean_view
from relaydesk.core.errors import UserError
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest
from tests.web.test_pages import browser_login, csrf_of


def test_a_view_keeps_only_the_inbox_parameters_checked_like_the_inbox() -> None:
    name, filters = clean_view(
        "  Persian   complaints ", {"language": "fa", "sentiment": "negative", "sort": "due", "q": " "}
    )
    assert name == "Persian complaints" and filters == {
        "language": "fa",
        "sentiment": "negative",
        "sort": "due",
    }
    for bad, why in (
        ({"colour": "red"}, "not an inbox filter"),
        ({"sort": "oldest"}, "sort"),
        ({"sentiment": "angry"}, "sentiment"),
        ({"q": " "}, "at least one filter"),
    ):
        with pytest.raises(UserError, match=why):
            clean_view("v", bad)
    with pytest.raises(UserError, match="name"):
        clean_view(" ", {"sort": "due"})


def test_own_views_are_private_and_shared_ones_are_for_managers_to_share(
    app_client: TestClient, container: Container
) -> None:
    sam, nora, sally = (login(app_client, f"{who}@test.example") for who in ("sam", "nora", "sally"))
    mine = app_client.post(
        "/api/v1/views", json={"name": "Waiting", "filters": {"sort": "waiting"}}, headers=sam
    )
    assert mine.status_code == 201, mine.text
    assert mine.json()["url"] == "/?sort=waiting" and mine.json()["mine"] is True
    refused = app_client.post(
        "/api/v1/views", json={"name": "Team", "filters": {"sla": "breached"}, "shared": True}, headers=sam
    )
    assert refused.status_code == 403
    shared = app_client.post(
        "/api/v1/views",
        json={"name": "Breached", "filters": {"sla": "breached"}, "shared": True},
        headers=nora,
    )
    assert shared.status_code == 201, shared.text
    assert [v["name"] for v in app_client.get("/api/v1/views", headers=sam).json()] == ["Breached", "Waiting"]
    assert [v["name"] for v in app_client.get("/api/v1/views", headers=sally).json()] == ["Breached"]
    # Only its owner (or an admin) removes a view; someone else's private one does not exist for them.
    assert app_client.delete(f"/api/v1/views/{shared.json()['id']}", headers=sam).status_code == 403
    assert app_client.delete(f"/api/v1/views/{mine.json()['id']}", headers=sally).status_code == 404
    assert app_client.delete(f"/api/v1/views/{mine.json()['id']}", headers=sam).status_code == 204
    assert [v["name"] for v in app_client.get("/api/v1/views", headers=sam).json()] == ["Breached"]


def test_save_a_view_from_the_inbox_and_open_it(app_client: TestClient, container: Container) -> None:
    ingest(app_client, container, "north-generic", "view-1", "My order is late", "v-1")
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/", params={"sentiment": "negative", "sort": "due"}).text
    assert 'name="params" value="sentiment=negative&amp;sort=due"' in page
    saved = app_client.post(
        "/views",
        data={"csrf": csrf_of(page), "name": "Unhappy, due first", "params": "sentiment=negative&sort=due"},
    )
    assert saved.status_code == 200 and "View saved." in saved.text
    assert str(saved.url).endswith("/?sentiment=negative&sort=due")
    chip = re.search(r'<span class="view-chip current">\s*<a href="([^"]+)"[^>]*>([^<]+)</a>', saved.text)
    assert chip is not None and chip.group(2) == "Unhappy, due first"
    view_id = re.search(r'action="/views/(\d+)/delete"', saved.text)
    assert view_id is not None
    gone = app_client.post(f"/views/{view_id.group(1)}/delete", data={"csrf": csrf_of(saved.text)})
    assert "View deleted." in gone.text and "Unhappy, due first" not in gone.text
