"""CSRF: a change made with the session cookie needs the session's token; bearer tokens do not.

A page of the same site on another port or subdomain gets the session cookie attached to its
requests (SameSite=Lax does not stop it), so the cookie alone must never be enough to change state.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.auth.csrf import cross_origin
from relaydesk.container import Container
from relaydesk.models import Conversation, WebSession
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import account, post_signed
from tests.auth.conftest import a_conversation, cookie_login
from tests.web.test_pages import browser_login

STATIC = Path(__file__).resolve().parents[2] / "src" / "relaydesk" / "web" / "static"


def status_of(container: Container, conversation_id: int) -> str:
    with container.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.status


def test_cookie_post_without_the_csrf_token_is_refused_and_changes_nothing(
    app_client: TestClient, container: Container
) -> None:
    conv = a_conversation(app_client, container)
    before = status_of(container, conv)
    csrf = cookie_login(app_client, "admin@test.example")

    forged = app_client.post(f"/api/v1/conversations/{conv}/resolve")
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"] and "X-CSRF-Token" in forged.json()["detail"]
    assert status_of(container, conv) == before != "resolved"

    wrong = app_client.post(f"/api/v1/conversations/{conv}/resolve", headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403 and status_of(container, conv) == before

    done = app_client.post(f"/api/v1/conversations/{conv}/resolve", headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.text
    assert status_of(container, conv) == "resolved"
    # Reads need no token.
    assert app_client.get(f"/api/v1/conversations/{conv}").status_code == 200


def test_a_token_of_another_session_does_not_count(app_client: TestClient, container: Container) -> None:
    conv = a_conversation(app_client, container)
    other_sessions = cookie_login(app_client, "sam@test.example")
    app_client.cookies.clear()
    cookie_login(app_client, "admin@test.example")
    stolen = app_client.post(
        f"/api/v1/conversations/{conv}/pending", headers={"X-CSRF-Token": other_sessions}
    )
    assert stolen.status_code == 403 and status_of(container, conv) != "pending"


def test_bodyless_posts_logout_and_token_minting_need_the_token(
    app_client: TestClient, container: Container
) -> None:
    conv = a_conversation(app_client, container)
    csrf = cookie_login(app_client, "admin@test.example")
    for path in (
        f"/api/v1/conversations/{conv}/reopen",
        f"/api/v1/conversations/{conv}/pending",
        "/api/v1/notifications/1/read",
        "/api/v1/listening/items/1/dismiss",
        "/api/v1/auth/logout",
    ):
        assert app_client.post(path).status_code == 403, path
    assert app_client.post("/api/v1/tokens", json={"name": "forged"}).status_code == 403
    assert app_client.delete("/api/v1/tokens/1").status_code == 403
    assert app_client.put("/api/v1/me/presence", json={"online": False}).status_code == 403
    # The forged logout left the session alive; the real one ends it.
    assert app_client.get("/api/v1/me").status_code == 200
    assert app_client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    with container.sessions() as session:
        assert session.scalar(select(func.count(WebSession.id))) == 0


def test_bearer_tokens_and_signed_webhooks_need_no_csrf_token(
    app_client: TestClient, container: Container
) -> None:
    conv = a_conversation(app_client, container)
    bearer = login(app_client, "admin@test.example")
    assert app_client.post(f"/api/v1/conversations/{conv}/resolve", headers=bearer).status_code == 200
    # A stale or present browser cookie does not get in the way of either.
    cookie_login(app_client, "admin@test.example")
    assert app_client.post(f"/api/v1/conversations/{conv}/reopen", headers=bearer).status_code == 200
    payload = {"id": "hook-2", "author": {"id": "p9", "name": "Customer"}, "text": "hello"}
    hook = post_signed(app_client, account(container, "north-generic"), payload, "north-secret")
    assert hook.status_code == 202  # type: ignore[attr-defined]


def test_the_csrf_token_can_be_fetched_again_for_a_live_session(app_client: TestClient) -> None:
    csrf = cookie_login(app_client, "sam@test.example")
    assert app_client.get("/api/v1/auth/csrf").json() == {"csrf_token": csrf}
    bearer = login(app_client, "sam@test.example")
    assert app_client.get("/api/v1/auth/csrf", headers=bearer).status_code == 400


def test_the_inbox_page_gives_its_scripts_the_token_the_api_wants(
    app_client: TestClient, container: Container
) -> None:
    conv = a_conversation(app_client, container)
    browser_login(app_client, "admin@test.example")
    page = app_client.get(f"/conversations/{conv}").text
    meta = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', page)
    assert meta is not None
    assert f'name="csrf" value="{meta.group(1)}"' in page  # the forms carry the same token
    typing = {"state": "typing"}
    presence = f"/api/v1/conversations/{conv}/presence"
    assert app_client.post(presence, json=typing).status_code == 403
    ok = app_client.post(presence, json=typing, headers={"X-CSRF-Token": meta.group(1)})
    assert ok.status_code == 200, ok.text
    # The one script that calls the API with the cookie sends the header.
    script = (STATIC / "relaydesk.js").read_text()
    assert script.count("fetch(") == script.count('credentials: "same-origin"')
    assert '"X-CSRF-Token": csrfToken' in script


def test_every_state_changing_api_operation_refuses_a_cookie_without_the_token(
    app_client: TestClient,
) -> None:
    """Every POST/PUT/PATCH/DELETE the API documents, called as a forging page would call it."""
    cookie_login(app_client, "admin@test.example")
    operations = [
        (method, path)
        for path, item in app_client.get("/openapi.json").json()["paths"].items()
        for method in item
        if path.startswith("/api/") and method in ("post", "put", "patch", "delete")
    ]
    assert len(operations) > 30
    answered = {
        (method, path): app_client.request(method, re.sub(r"\{[^}]+\}", "1", path), json={}).status_code
        for method, path in operations
    }
    unchecked = sorted(op for op, status in answered.items() if status != 403)
    # The login has no session yet; it checks where the request came from (below).
    assert unchecked == [("post", "/api/v1/auth/login")]


def test_login_from_another_sites_page_is_refused(app_client: TestClient, container: Container) -> None:
    """Login CSRF: another page must not log the browser into an account of its choosing."""
    body = {"email": "sam@test.example", "password": "relaydesk"}
    for headers in (
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver:8001"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://evil.example"},  # a browser too old for Sec-Fetch-Site
        {"Origin": "null"},
    ):
        refused = app_client.post("/api/v1/auth/login", json=body, headers=headers)
        assert refused.status_code == 403, headers
        assert "relaydesk_session" not in refused.cookies
    for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"}, {}):
        assert app_client.post("/api/v1/auth/login", json=body, headers=headers).status_code == 200
    app_client.cookies.clear()
    form = app_client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    forged = app_client.post(
        "/login",
        data={"email": "sam@test.example", "password": "relaydesk", "login_token": token},
        headers={"Sec-Fetch-Site": "same-site"},
        follow_redirects=False,
    )
    assert forged.status_code == 400 and "relaydesk_session" not in forged.cookies


def test_cross_origin_judgement() -> None:
    assert not cross_origin({"sec-fetch-site": "same-origin", "origin": "http://elsewhere"})
    assert not cross_origin({"sec-fetch-site": "none"})
    assert cross_origin({"sec-fetch-site": "same-site"})
    assert not cross_origin({"origin": "https://desk.example", "host": "desk.example"})
    # Behind a proxy that rewrites Host, the forwarded host counts.
    assert not cross_origin(
        {"origin": "https://desk.example", "host": "127.0.0.1:8000", "x-forwarded-host": "desk.example"}
    )
    assert cross_origin({"origin": "https://desk.example:8443", "host": "desk.example"})
    assert not cross_origin({"host": "desk.example"})
