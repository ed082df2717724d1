"""The notification destinations page without JavaScript: add (URL write-only), replace, test,
switch, delete; managers read the names; agents are refused; errors keep what was typed."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import AuditEntry, NotificationDestination
from relaydesk.notifications import webhooks
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

URL = "https://hooks.example/services/T1/B2/page-never-shown"
PAGE = "/settings/destinations"


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append({"url": str(request.url), "body": json.loads(request.content)})
        return httpx.Response(500 if "broken" in str(request.url) else 200)

    monkeypatch.setattr(webhooks, "_transport", httpx.MockTransport(handler))
    monkeypatch.delenv("RELAYDESK_WEBHOOK_ESCALATIONS", raising=False)
    monkeypatch.setenv("RELAYDESK_WEBHOOK_ON_CALL", "https://env.example/on-call-never-shown")
    return calls


def row(container: Container, name: str) -> NotificationDestination | None:
    with container.sessions() as session:
        return session.scalars(
            select(NotificationDestination).where(NotificationDestination.name == name)
        ).first()


def test_an_admin_adds_tests_replaces_switches_and_deletes(
    app_client: TestClient, container: Container, received: list[dict[str, object]]
) -> None:
    browser_login(app_client, "admin@test.example")
    hub = app_client.get("/settings")
    assert f'href="{PAGE}"' in hub.text and 'href="/settings/listening"' in hub.text
    page = app_client.get(PAGE)
    assert page.status_code == 200 and "No notification destinations yet." not in page.text  # env's one
    assert "RELAYDESK_WEBHOOK_ON_CALL" in page.text and "on-call-never-shown" not in page.text
    csrf = csrf_of(page.text)
    added = app_client.post(
        PAGE, data={"csrf": csrf, "name": "pr-desk", "url": URL, "active": "1"}, follow_redirects=False
    )
    assert added.status_code == 303, added.text
    stored = row(container, "pr-desk")
    assert stored is not None and container.box.open(stored.url_secret) == {"url": URL}
    listing = app_client.get(PAGE)
    assert (
        "webhook:pr-desk" in listing.text and URL not in listing.text and "hooks.example" not in listing.text
    )
    assert 'type="password" name="replace"' in listing.text

    tested = app_client.post(f"{PAGE}/pr-desk/test", data={"csrf": csrf}, follow_redirects=True)
    assert "The test message reached pr-desk (HTTP 200)." in tested.text and URL not in tested.text
    assert received[-1]["url"] == URL

    replaced = app_client.post(
        f"{PAGE}/pr-desk",
        data={"csrf": csrf, "replace": "https://hooks.example/broken/x"},
        follow_redirects=True,
    )
    assert "is replaced" in replaced.text and "broken" not in replaced.text
    failed = app_client.post(f"{PAGE}/pr-desk/test", data={"csrf": csrf}, follow_redirects=True)
    assert "it answered HTTP 500" in failed.text and "hooks.example" not in failed.text

    off = app_client.post(f"{PAGE}/pr-desk/disable", data={"csrf": csrf}, follow_redirects=True)
    assert "is off" in off.text
    stored = row(container, "pr-desk")
    assert stored is not None and not stored.active
    gone = app_client.post(f"{PAGE}/pr-desk/delete", data={"csrf": csrf}, follow_redirects=True)
    assert "is deleted" in gone.text and row(container, "pr-desk") is None
    with container.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.kind == "destination")).all()
    assert [e.action for e in entries] == ["created", "updated", "updated", "deleted"]
    assert all(e.via == "web" for e in entries)
    audit = app_client.get("/settings/audit", params={"kind": "destination"})
    assert audit.status_code == 200 and "pr-desk" in audit.text and "(secret" in audit.text
    assert "hooks.example" not in audit.text


def test_a_mistake_keeps_the_name_never_the_url_and_saves_nothing(
    app_client: TestClient, container: Container, received: list[dict[str, object]]
) -> None:
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get(PAGE).text)
    bad = app_client.post(
        PAGE, data={"csrf": csrf, "name": "pr-desk", "url": "hooks.example/no-scheme-secret"}
    )
    assert bad.status_code == 422 and 'value="pr-desk"' in bad.text
    assert "no-scheme-secret" not in bad.text and "Type the address again" in bad.text
    assert row(container, "pr-desk") is None
    taken = app_client.post(PAGE, data={"csrf": csrf, "name": "on-call", "url": URL})
    assert taken.status_code == 409 and "RELAYDESK_WEBHOOK_ON_CALL" in taken.text and URL not in taken.text
    expired = app_client.post(PAGE, data={"csrf": "wrong", "name": "x", "url": URL}, follow_redirects=False)
    assert expired.status_code == 303 and row(container, "x") is None


def test_a_manager_reads_names_only_and_cannot_change_them(
    app_client: TestClient, container: Container, received: list[dict[str, object]]
) -> None:
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get(PAGE).text)
    app_client.post(PAGE, data={"csrf": csrf, "name": "pr-desk", "url": URL, "active": "1"})
    app_client.cookies.clear()
    browser_login(app_client, "petra@test.example")
    page = app_client.get(PAGE)
    assert page.status_code == 200 and "webhook:pr-desk" in page.text
    assert (
        'name="replace"' not in page.text and 'name="url"' not in page.text and "Send a test" not in page.text
    )
    csrf = csrf_of(page.text)
    for path, data in (
        (PAGE, {"name": "mine", "url": URL}),
        (f"{PAGE}/pr-desk", {"replace": "https://evil.example/x"}),
        (f"{PAGE}/pr-desk/delete", {}),
        (f"{PAGE}/pr-desk/test", {}),
        (f"{PAGE}/pr-desk/disable", {}),
    ):
        refused = app_client.post(path, data={"csrf": csrf, **data}, follow_redirects=False)
        assert refused.status_code == 403, path
    stored = row(container, "pr-desk")
    assert stored is not None and stored.active and container.box.open(stored.url_secret) == {"url": URL}
    assert received == []
    app_client.cookies.clear()
    browser_login(app_client, "sam@test.example")
    assert app_client.get(PAGE).status_code == 403
