"""Production mode hardening: headers on every answer, Secure cookies, private API docs, offline docs.

Headers and docs do not depend on the database, so these run on SQLite only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from relaydesk.app import create_app
from relaydesk.container import Container

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _client(container: Container, **settings: Any) -> TestClient:
    container.settings = container.settings.model_copy(update=settings)
    # https: the browser (and httpx) only sends Secure cookies back over HTTPS.
    return TestClient(create_app(container.settings, container), base_url="https://testserver")


@pytest.fixture
def production(container: Container) -> Iterator[TestClient]:
    with _client(container, mode="production") as client:
        yield client


def _api_login(client: TestClient, email: str = "sam@test.example") -> Any:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": "relaydesk"})
    assert response.status_code == 200, response.text
    return response


def test_production_answers_carry_hsts_nosniff_and_no_store(production: TestClient) -> None:
    anonymous = production.get("/api/v1/me")
    logged_in = _api_login(production)
    me = production.get("/api/v1/me")
    for response in (production.get("/healthz"), anonymous, logged_in, me, production.get("/login")):
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    # Shared static files may still be cached; they hold nobody's data.
    static = production.get("/static/relaydesk.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


def test_development_has_no_hsts_but_the_same_privacy_headers(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/me")
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_production_cookies_are_secure(production: TestClient) -> None:
    api = _api_login(production)
    assert "secure" in api.headers["set-cookie"].lower()
    production.cookies.clear()
    form = production.get("/login")
    assert "relaydesk_login=" in form.headers["set-cookie"]
    assert all("; secure" in c.lower() for c in form.headers.get_list("set-cookie"))
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    done = production.post(
        "/login",
        data={"email": "sam@test.example", "password": "relaydesk", "login_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    cookies = done.headers.get_list("set-cookie")
    assert any(c.startswith("relaydesk_session=") for c in cookies)
    assert all("; secure" in c.lower() for c in cookies), cookies
    csrf = re.search(r'name="csrf" value="([^"]+)"', production.get("/logout").text)
    assert csrf is not None
    out = production.post("/logout", data={"csrf": csrf.group(1)}, follow_redirects=False)
    flash = [c for c in out.headers.get_list("set-cookie") if c.startswith("relaydesk_flash=")]
    assert flash and all("; secure" in c.lower() for c in flash)


DOC_PATHS = ("/docs", "/redoc", "/openapi.json")


def test_docs_are_private_in_production(production: TestClient) -> None:
    for path in DOC_PATHS:
        assert production.get(path).status_code == 404, path
    csrf = _api_login(production).json()["csrf_token"]
    for path in DOC_PATHS:
        assert production.get(path).status_code == 200, path
    token = production.post("/api/v1/tokens", json={"name": "docs"}, headers={"X-CSRF-Token": csrf}).json()[
        "token"
    ]
    production.cookies.clear()
    assert production.get("/openapi.json").status_code == 404
    bearer = {"Authorization": f"Bearer {token}"}
    assert production.get("/openapi.json", headers=bearer).json()["info"]["title"] == "RelayDesk"


def test_docs_can_be_made_public_in_production(container: Container) -> None:
    with _client(container, mode="production", public_docs=True) as client:
        for path in DOC_PATHS:
            assert client.get(path).status_code == 200, path


def test_docs_can_be_made_private_in_development(container: Container) -> None:
    with _client(container, public_docs=False) as client:
        assert client.get("/docs").status_code == 404


def test_docs_are_served_without_any_outside_host(app_client: TestClient) -> None:
    types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for path, count in (("/docs", 3), ("/redoc", 2)):
        page = app_client.get(path)
        assert page.status_code == 200
        assert "//" not in re.sub(r"<!--.*?-->", "", page.text), f"{path} refers to another host"
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert len(assets) == count, assets
        for url in assets:
            assert url.startswith("/docs/assets/")
            served = app_client.get(url)
            assert served.status_code == 200 and len(served.content) > 1000, url
            assert served.headers["content-type"].startswith(types[url[url.rindex(".") :]])
        assert "url: '/openapi.json'" in page.text or 'spec-url="/openapi.json"' in page.text
    assert app_client.get("/docs/assets/../../secret.key").status_code == 404
    assert app_client.get("/docs/assets/index.html").status_code == 404
