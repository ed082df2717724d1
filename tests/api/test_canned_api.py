"""The saved replies API: an admin writes a macro, a manager only her departments' replies, agents
read; without `actions` the stored ones stay."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

BODY = {
    "title": "Refund done",
    "texts": {
        "en": "Hi {customer.first_name}, your refund is on its way.",
        "fa": "سلام، وجه شما برگشت داده شد.",
    },
    "departments": ["service"],
    "actions": {"status": "resolved", "tags": ["refunded"], "priority": "low"},
}


def test_macros_over_the_api(app_client: TestClient) -> None:
    admin = login(app_client, "admin@test.example")
    sam = login(app_client, "sam@test.example")
    made = app_client.put("/api/v1/canned/refund-done", json=BODY, headers=admin)
    assert made.status_code == 200, made.text
    assert made.json()["actions"] == {
        "status": "resolved",
        "tags": ["refunded"],
        "priority": "low",
        "transfer": None,
    }
    kept = app_client.put(
        "/api/v1/canned/refund-done", json={**BODY, "actions": None, "title": "Refunded"}, headers=admin
    )
    assert kept.json()["actions"]["status"] == "resolved" and kept.json()["title"] == "Refunded"
    both = app_client.put(
        "/api/v1/canned/refund-done",
        json={**BODY, "actions": {"status": "resolved", "transfer": "sales"}},
        headers=admin,
    )
    assert both.status_code == 422 and "not both" in both.text
    assert app_client.put("/api/v1/canned/refund-done", json=BODY, headers=sam).status_code == 403
    listed = app_client.get("/api/v1/canned", params={"q": "refund"}, headers=sam).json()
    assert "refund-done" in {r["key"] for r in listed}
    assert app_client.delete("/api/v1/canned/refund-done", headers=admin).status_code == 204
    assert app_client.get("/api/v1/canned/refund-done", headers=sam).status_code == 404
