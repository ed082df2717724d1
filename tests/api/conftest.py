"""Helpers for API tests; the `container` and `app_client` fixtures live in tests/conftest.py."""

from __future__ import annotations

from fastapi.testclient import TestClient


def login(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": "relaydesk"})
    assert response.status_code == 200, response.text
    csrf = {"X-CSRF-Token": response.json()["csrf_token"]}
    token = client.post("/api/v1/tokens", json={"name": "test"}, headers=csrf).json()["token"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}
