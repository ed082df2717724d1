"""Notification destinations through the service and the API: who may do what (role x action x
whole organisation or one part), the URL sealed at rest and never given back, the environment's
precedence, the test button's answer, a rule's notice reaching a stored destination, the audit.
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import os
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.container import Container
from relaydesk.core.enums import Role
from relaydesk.core.errors import Conflict, Forbidden, NotFound, Refused
from relaydesk.db import transaction
from relaydesk.models import AuditEntry, NotificationDestination, User
from relaydesk.notifications import webhooks
from relaydesk.notifications.destination_access import DestinationAction
from relaydesk.notifications.destination_service import destination_service
from relaydesk.notifications.schemas import DestinationIn, DestinationPatch
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest

URL = "https://hooks.example/services/T1/B2/never-shown"
OTHER_URL = "https://hooks.example/services/T1/B2/replaced-never-shown"


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """The fake receiver behind webhooks._transport: no real network call is ever made."""
    calls: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append({"url": str(request.url), "body": json.loads(request.content)})
        if "broken" in str(request.url):
            return httpx.Response(404, text="no such hook")
        if "down" in str(request.url):
            raise httpx.ConnectError("connection refused to " + str(request.url))
        return httpx.Response(200, text="ok")

    monkeypatch.setattr(webhooks, "_transport", httpx.MockTransport(handler))
    for name in list(os.environ):
        if name.startswith(webhooks.ENV_PREFIX):
            monkeypatch.delenv(name)
    return calls


def wait_for(calls: list[dict[str, object]], n: int) -> None:
    deadline = time.monotonic() + 10
    while len(calls) < n and time.monotonic() < deadline:
        time.sleep(0.05)


def scope_of(container: Container, email: str) -> Scope:
    with container.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        return scope_for(session, user)


def scopes(container: Container) -> dict[str, Scope]:
    admin = scope_of(container, "admin@test.example")
    nora = scope_of(container, "nora@test.example")  # manager limited to the north region
    return {
        "owner": dataclasses.replace(admin, role=Role.OWNER),
        "admin": admin,
        "region-admin": dataclasses.replace(
            admin, location_path=nora.location_path, location_ids=nora.location_ids
        ),
        "manager": scope_of(container, "petra@test.example"),
        "region-manager": nora,
        "agent": scope_of(container, "sam@test.example"),
        "viewer": scope_of(container, "vic@test.example"),
    }


def create(container: Container, scope: Scope, name: str = "pr-desk", url: str = URL) -> None:
    with transaction(container.sessions) as session:
        destination_service.create(
            session, scope, container.box, DestinationIn(name=name, url=url), via="web"
        )


def stored(container: Container, name: str) -> NotificationDestination | None:
    with container.sessions() as session:
        return session.scalars(
            select(NotificationDestination).where(NotificationDestination.name == name)
        ).first()


# who -> the actions the service lets through
ALLOWED = {
    "owner": set(DestinationAction),
    "admin": set(DestinationAction),
    "region-admin": {DestinationAction.VIEW},
    "manager": {DestinationAction.VIEW},
    "region-manager": {DestinationAction.VIEW},
    "agent": set(),
    "viewer": set(),
}


def _attempt(container: Container, scope: Scope, action: DestinationAction) -> None:
    box = container.box
    with transaction(container.sessions) as session:
        if action == DestinationAction.VIEW:
            destination_service.list(session, scope)
            destination_service.get(session, scope, "pr-desk")
        elif action == DestinationAction.CREATE:
            destination_service.create(session, scope, box, DestinationIn(name="made-by-matrix", url=URL))
        elif action == DestinationAction.EDIT:
            destination_service.update(session, scope, box, "pr-desk", DestinationPatch(active=False))
        elif action == DestinationAction.DELETE:
            destination_service.delete(session, scope, "pr-desk")
    if action == DestinationAction.TEST:
        destination_service.test(container.sessions, scope, box, "pr-desk")


@pytest.mark.parametrize("who", list(ALLOWED))
def test_the_permission_matrix(container: Container, received: list[dict[str, object]], who: str) -> None:
    everyone = scopes(container)
    for action in DestinationAction:
        create(container, everyone["admin"])  # afresh for each action (delete removes it)
        allowed = action in ALLOWED[who]
        assert destination_service.may(everyone[who], action) is allowed
        if allowed:
            _attempt(container, everyone[who], action)
        else:
            with pytest.raises(Forbidden):
                _attempt(container, everyone[who], action)
        with transaction(container.sessions) as session:
            for row in session.scalars(select(NotificationDestination)):
                session.delete(row)


def test_the_url_is_sealed_never_given_back_and_audited_as_secret(
    container: Container, received: list[dict[str, object]]
) -> None:
    admin = scopes(container)["admin"]
    create(container, admin, " PR-Desk ")  # names are folded to lower case
    row = stored(container, "pr-desk")
    assert row is not None and URL not in row.url_secret
    assert container.box.open(row.url_secret) == {"url": URL}
    with container.sessions() as session:
        listing = destination_service.list(session, scopes(container)["manager"])
    assert [d.name for d in listing.stored] == ["pr-desk"] and URL not in listing.model_dump_json()

    with transaction(container.sessions) as session:
        # An empty replacement keeps the address; a new one replaces it.
        destination_service.update(session, admin, container.box, "pr-desk", DestinationPatch(url="  "))
        destination_service.update(session, admin, container.box, "pr-desk", DestinationPatch(url=OTHER_URL))
    row = stored(container, "pr-desk")
    assert row is not None and container.box.open(row.url_secret) == {"url": OTHER_URL}
    with transaction(container.sessions) as session:
        destination_service.delete(session, admin, "pr-desk", via="web")
    with container.sessions() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.kind == "destination").order_by(AuditEntry.id)
        ).all()
    assert [(e.action, e.key, e.via) for e in entries] == [
        ("created", "pr-desk", "web"),
        ("updated", "pr-desk", "api"),
        ("deleted", "pr-desk", "web"),
    ]
    assert entries[0].after is not None and entries[0].after["url_secret"] == "(secret)"
    assert entries[1].before == {"url_secret": "(secret)"} and entries[1].after == {"url_secret": "(secret)"}
    every = json.dumps([[e.before, e.after] for e in entries])
    assert URL not in every and OTHER_URL not in every and "hooks.example" not in every


def test_bad_input_is_refused_by_field_and_nothing_is_lost(
    container: Container, received: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = scopes(container)["admin"]
    create(container, admin)
    with pytest.raises(Refused, match=r"^url:"):
        create(container, admin, "other", "not a url")
    with pytest.raises(Refused, match=r"^name:"):
        create(container, admin, "pr_desk")
    with pytest.raises(Conflict, match=r"^name:"):
        create(container, admin)
    with pytest.raises(Refused, match=r"^url:"), transaction(container.sessions) as session:
        destination_service.update(session, admin, container.box, "pr-desk", DestinationPatch(url="ftp://x"))
    with pytest.raises(NotFound), transaction(container.sessions) as session:
        destination_service.delete(session, admin, "nope")
    row = stored(container, "pr-desk")
    assert row is not None and container.box.open(row.url_secret) == {"url": URL}
    # A name the environment sets would never be used: refused, said why.
    monkeypatch.setenv("RELAYDESK_WEBHOOK_ESCALATIONS", "https://env.example/hook")
    with pytest.raises(Conflict, match="RELAYDESK_WEBHOOK_ESCALATIONS"):
        create(container, admin, "escalations")


def test_the_environment_wins_and_is_listed_read_only(
    container: Container, received: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = scopes(container)["admin"]
    create(container, admin)
    monkeypatch.setenv("RELAYDESK_WEBHOOK_PR_DESK", "https://env.example/pr")
    monkeypatch.setenv("RELAYDESK_WEBHOOK_ESCALATIONS", "https://env.example/esc")
    with container.sessions() as session:
        listing = destination_service.list(session, admin)
    assert [(e.name, e.variable) for e in listing.environment] == [
        ("escalations", "RELAYDESK_WEBHOOK_ESCALATIONS"),
        ("pr-desk", "RELAYDESK_WEBHOOK_PR_DESK"),
    ]
    assert listing.stored[0].overridden_by == "RELAYDESK_WEBHOOK_PR_DESK"
    assert "env.example" not in listing.model_dump_json()
    tested = destination_service.test(container.sessions, admin, container.box, "pr-desk")
    assert tested.ok and tested.source == "environment"
    assert received[-1]["url"] == "https://env.example/pr"
    assert webhooks.resolve("pr-desk", container_org(container)) == "https://env.example/pr"


def container_org(container: Container) -> int:
    with container.sessions() as session:
        user = session.scalars(select(User).where(User.email == "admin@test.example")).one()
        return user.org_id


def test_the_test_button_says_how_it_went_without_the_url(
    container: Container, received: list[dict[str, object]]
) -> None:
    admin = scopes(container)["admin"]
    create(container, admin, "good", URL)
    create(container, admin, "broken", "https://hooks.example/broken/secret-part")
    create(container, admin, "down", "https://hooks.example/down/secret-part")
    good = destination_service.test(container.sessions, admin, container.box, "good")
    assert (good.ok, good.status, good.source) == (True, 200, "stored")
    assert received[-1]["url"] == URL and "test message" in str(received[-1]["body"])
    broken = destination_service.test(container.sessions, admin, container.box, "broken")
    assert (broken.ok, broken.status, broken.error) == (False, 404, None)
    down = destination_service.test(container.sessions, admin, container.box, "down")
    assert (down.ok, down.status, down.error) == (False, None, "ConnectError")
    for result in (good, broken, down):
        assert (
            "secret-part" not in result.model_dump_json() and "hooks.example" not in result.model_dump_json()
        )
    with pytest.raises(NotFound):
        destination_service.test(container.sessions, admin, container.box, "nope")


def test_a_rules_notice_reaches_a_stored_destination_and_not_a_switched_off_one(
    app_client: TestClient, container: Container, received: list[dict[str, object]]
) -> None:
    admin = login(app_client, "admin@test.example")
    made = app_client.post("/api/v1/destinations", json={"name": "pr-desk", "url": URL}, headers=admin)
    assert made.status_code == 201 and URL not in made.text, made.text
    rule = {"when": {"keywords": ["zebrafish"]}, "then": {"notify": ["webhook:pr-desk"]}}
    assert app_client.put("/api/v1/rules/pr-notice", json=rule, headers=admin).status_code in (200, 201)
    conversation = ingest(app_client, container, "north-generic", "n1", "Do you sell zebrafish toys?")
    wait_for(received, 1)
    assert len(received) == 1 and received[0]["url"] == URL
    text = str(received[0]["body"])
    assert f"RelayDesk: conversation #{conversation} matched" in text and "pr-notice" in text
    off = app_client.patch("/api/v1/destinations/pr-desk", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    ingest(app_client, container, "north-generic", "n2", "zebrafish again", author="c2")
    time.sleep(0.3)
    assert len(received) == 1


def test_the_api_answers_4xx_with_the_field(
    app_client: TestClient, container: Container, received: list[dict[str, object]]
) -> None:
    admin = login(app_client, "admin@test.example")
    petra = login(app_client, "petra@test.example")
    bad = app_client.post("/api/v1/destinations", json={"name": "x", "url": "nope"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("url:")
    assert (
        app_client.post("/api/v1/destinations", json={"name": "x", "url": URL}, headers=petra).status_code
        == 403
    )
    assert (
        app_client.post("/api/v1/destinations", json={"name": "x", "url": URL}, headers=admin).status_code
        == 201
    )
    listed = app_client.get("/api/v1/destinations", headers=petra)
    assert listed.status_code == 200 and [d["name"] for d in listed.json()["stored"]] == ["x"]
    assert URL not in listed.text
    tested = app_client.post("/api/v1/destinations/x/test", headers=admin)
    assert tested.status_code == 200 and tested.json()["ok"] is True and URL not in tested.text
    assert app_client.post("/api/v1/destinations/x/test", headers=petra).status_code == 403
    assert app_client.delete("/api/v1/destinations/x", headers=petra).status_code == 403
    assert app_client.delete("/api/v1/destinations/x", headers=admin).status_code == 204
    assert app_client.get("/api/v1/destinations/x", headers=admin).status_code == 404
