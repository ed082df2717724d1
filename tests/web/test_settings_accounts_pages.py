"""The channel account pages without JavaScript: connect, status, check, change, switch, refuse."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import AuditEntry, ChannelAccount
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

TOKEN, SECRET = "123456:page-bot-token", "page-webhook-secret"


def row(container: Container, key: str) -> ChannelAccount | None:
    with container.sessions() as session:
        return session.scalars(select(ChannelAccount).where(ChannelAccount.key == key)).first()


def connect_form(client: TestClient, **values: str) -> dict[str, str]:
    page = client.get("/settings/accounts/new", params={"network": "telegram"})
    assert page.status_code == 200
    assert 'name="credential__bot_token"' in page.text and 'name="credential__webhook_secret"' in page.text
    form = {
        "csrf": csrf_of(page.text),
        "network": "telegram",
        "key": "north-bot",
        "name": "North bot",
        "handle": "northbot",
        "external_id": "7000000001",
        "location": "north-shop",
        "credential__bot_token": TOKEN,
        "credential__webhook_secret": SECRET,
        "active": "1",
    }
    form.update(values)
    return form


def test_an_admin_connects_an_account_and_sees_its_status(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    hub = app_client.get("/settings")
    assert 'href="/settings/accounts"' in hub.text
    listing = app_client.get("/settings/accounts")
    assert (
        listing.status_code == 200
        and "Connect an account" in listing.text
        and "north-generic" in listing.text
    )
    # Step one: the network; its credential fields follow (a 1,000-location chain gets a datalist).
    first = app_client.get("/settings/accounts/new")
    assert first.status_code == 200 and 'name="credential__' not in first.text
    saved = app_client.post(
        "/settings/accounts", data=connect_form(app_client, sandbox="1"), follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/settings/accounts/north-bot"
    stored = row(container, "north-bot")
    assert stored is not None and stored.settings == {"sandbox": True} and stored.active
    assert container.box.open(stored.credentials_encrypted) == {"bot_token": TOKEN, "webhook_secret": SECRET}

    page = app_client.get("/settings/accounts/north-bot")
    assert page.status_code == 200
    assert f"http://testserver/webhooks/telegram/{stored.id}" in page.text
    assert 'data-copy="webhook-address"' in page.text
    assert "Replies: ready." in page.text and "Sandbox:" in page.text
    assert TOKEN not in page.text and SECRET not in page.text  # write-only
    assert 'name="remove__bot_token"' in page.text
    checked = app_client.post(
        "/settings/accounts/north-bot/check", data={"csrf": csrf_of(page.text)}, follow_redirects=True
    )
    assert checked.status_code == 200 and "Checked just now" in checked.text
    with container.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.kind == "account")).all()[-1]
    assert (
        entry.via == "web" and entry.after is not None and entry.after["credentials_encrypted"] == "(secret)"
    )


def test_a_change_keeps_empty_credentials_and_a_mistake_comes_back_without_secrets(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    app_client.post("/settings/accounts", data=connect_form(app_client), follow_redirects=False)
    page = app_client.get("/settings/accounts/north-bot")
    csrf = csrf_of(page.text)
    base = {
        "csrf": csrf,
        "name": "North bot",
        "handle": "northbot",
        "external_id": "7000000001",
        "location": "north-shop",
    }
    kept = app_client.post(
        "/settings/accounts/north-bot",
        data={
            **base,
            "credential__bot_token": "",
            "credential__webhook_secret": "",
            "remove__webhook_secret": "1",
        },
        follow_redirects=False,
    )
    assert kept.status_code == 303, kept.text
    stored = row(container, "north-bot")
    assert stored is not None and container.box.open(stored.credentials_encrypted) == {"bot_token": TOKEN}
    assert "webhook_secret" in app_client.get("/settings/accounts/north-bot").text  # asked for again

    # The generic account's id on the network: taken, said in words, nothing saved.
    taken = app_client.post(
        "/settings/accounts",
        data=connect_form(app_client, key="second", network="generic", external_id="north-1"),
    )
    assert taken.status_code == 409 and "north-generic" in taken.text
    assert TOKEN not in taken.text and 'value="second"' in taken.text
    bad = app_client.post(
        "/settings/accounts", data=connect_form(app_client, key="Bad Key", external_id="99")
    )
    assert bad.status_code == 422 and "not a valid key" in bad.text
    assert row(container, "second") is None

    off = app_client.post("/settings/accounts/north-bot/disable", data={"csrf": csrf}, follow_redirects=False)
    assert off.status_code == 303
    stored = row(container, "north-bot")
    assert stored is not None and not stored.active


def test_a_manager_reads_and_checks_but_cannot_change(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "nora@test.example")  # manager of the north region
    listing = app_client.get("/settings/accounts")
    assert listing.status_code == 200
    assert "north-generic" in listing.text and "south-generic" not in listing.text
    assert "Connect an account" not in listing.text
    page = app_client.get("/settings/accounts/north-generic")
    assert page.status_code == 200 and 'name="credential__' not in page.text
    assert app_client.get("/settings/accounts/south-generic").status_code == 404
    assert app_client.get("/settings/accounts/new").status_code == 403
    csrf = csrf_of(page.text)
    checked = app_client.post(
        "/settings/accounts/north-generic/check", data={"csrf": csrf}, follow_redirects=False
    )
    assert checked.status_code == 303
    refused = app_client.post(
        "/settings/accounts/north-generic",
        data={"csrf": csrf, "name": "Mine now", "handle": "x", "location": "north-shop"},
    )
    assert refused.status_code == 403
    assert app_client.post("/settings/accounts/north-generic/disable", data={"csrf": csrf}).status_code == 403
    generic = row(container, "north-generic")
    assert generic is not None and generic.active and generic.name == ""


def test_agents_have_no_account_pages_and_a_stale_form_is_refused(app_client: TestClient) -> None:
    browser_login(app_client, "sam@test.example")
    assert app_client.get("/settings/accounts").status_code == 403
    assert 'href="/settings/accounts"' not in app_client.get("/settings").text
    app_client.cookies.clear()
    browser_login(app_client, "admin@test.example")
    stale = app_client.post(
        "/settings/accounts/north-generic/disable", data={"csrf": "0" * 64}, follow_redirects=False
    )
    assert stale.status_code == 303 and stale.headers["location"] == "/settings/accounts/north-generic"


def test_the_api_lists_connects_changes_and_checks(app_client: TestClient, container: Container) -> None:
    from tests.api.conftest import login

    admin = login(app_client, "admin@test.example")
    body = {
        "key": "north-bot",
        "network": "telegram",
        "handle": "northbot",
        "external_id": 7000000001,
        "location": "north-shop",
        "credentials": {"bot_token": TOKEN, "webhook_secret": SECRET},
    }
    made = app_client.post("/api/v1/accounts", json=body, headers=admin)
    assert made.status_code == 201, made.text
    assert TOKEN not in made.text and made.json()["credentials"] == ["bot_token", "webhook_secret"]
    assert made.json()["status"]["webhook_address"].endswith(f"/webhooks/telegram/{made.json()['id']}")
    assert app_client.post("/api/v1/accounts", json=body, headers=admin).status_code == 409
    listed = app_client.get("/api/v1/accounts", params={"q": "bot"}, headers=admin).json()
    assert [a["key"] for a in listed] == ["north-bot"]
    changed = app_client.patch("/api/v1/accounts/north-bot", json={"sandbox": True}, headers=admin)
    assert changed.status_code == 200 and changed.json()["sandbox"] is True
    checked = app_client.post("/api/v1/accounts/north-bot/check", headers=admin)
    assert checked.status_code == 200 and checked.json()["status"]["ok"] is True
    assert app_client.get("/api/v1/accounts/nope", headers=admin).status_code == 404
    bad = app_client.post("/api/v1/accounts", json={**body, "key": "Bad"}, headers=admin)
    assert bad.status_code == 422 and "not a valid key" in bad.json()["detail"]
    nora = login(app_client, "nora@test.example")
    assert app_client.get("/api/v1/accounts/north-bot", headers=nora).status_code == 200
    assert app_client.patch("/api/v1/accounts/north-bot", json={"name": "x"}, headers=nora).status_code == 403
    sam = login(app_client, "sam@test.example")
    assert app_client.get("/api/v1/accounts", headers=sam).status_code == 403
    with container.sessions() as session:
        vias = [e.via for e in session.scalars(select(AuditEntry).where(AuditEntry.key == "north-bot"))]
    assert vias == ["api", "api"]  # connected, then switched to sandbox
