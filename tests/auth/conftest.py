"""Helpers for the auth tests: a browser-like session on the API and a conversation to act on."""

from __future__ import annotations

from fastapi.testclient import TestClient

from relaydesk.container import Container
from tests.api.test_webhook_and_inbox import ingest


def cookie_login(client: TestClient, email: str, password: str = "relaydesk") -> str:
    """Log the client in with the session cookie (as a browser's script would); the CSRF token."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token = str(response.json()["csrf_token"])
    assert response.headers["X-CSRF-Token"] == token
    return token


def a_conversation(client: TestClient, container: Container, msg_id: str = "m1") -> int:
    return ingest(client, container, "north-generic", msg_id, "My coffee arrived cold and late", "p1")
