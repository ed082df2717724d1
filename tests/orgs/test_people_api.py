"""/api/v1/people: the same service and permissions as the pages, as JSON with 4xx by field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def test_people_through_the_api(app_client: TestClient) -> None:
    admin = login(app_client, "admin@test.example")
    listed = app_client.get("/api/v1/people", params={"q": "sam"}, headers=admin).json()
    assert listed["total"] == 1 and listed["people"][0]["handle"] == "sam"
    sam = listed["people"][0]["id"]
    bad = app_client.patch(
        f"/api/v1/people/{sam}",
        json={
            "shifts": [
                {"days": ["mon"], "start": "09:00", "end": "17:00"},
                {"days": [], "start": "x", "end": "y"},
            ]
        },
        headers=admin,
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"shifts.2"}
    changed = app_client.patch(f"/api/v1/people/{sam}", json={"max_concurrent": 5}, headers=admin)
    assert changed.status_code == 200 and changed.json()["max_concurrent"] == 5
    invited = app_client.post(
        "/api/v1/people",
        json={"email": "api@test.example", "name": "Api Person", "departments": ["pr"]},
        headers=admin,
    )
    assert invited.status_code == 201 and invited.json()["welcome_path"].startswith("/welcome/rw_")
    taken = app_client.post(
        "/api/v1/people", json={"email": "api@test.example", "name": "Again"}, headers=admin
    )
    assert taken.status_code == 409 and [e["field"] for e in taken.json()["errors"]] == ["email"]

    petra = login(app_client, "petra@test.example")
    assert app_client.get(f"/api/v1/people/{sam}", headers=petra).status_code == 403
    assert (
        app_client.patch(f"/api/v1/people/{sam}", json={"max_concurrent": 1}, headers=petra).status_code
        == 403
    )
    mine = app_client.get("/api/v1/people", headers=petra).json()
    assert {p["handle"] for p in mine["people"]} == {"api", "petra"}
    agent = login(app_client, "sam@test.example")
    assert app_client.get("/api/v1/people", headers=agent).status_code == 403
    tokens = app_client.get(f"/api/v1/people/{sam}/tokens", headers=agent).json()
    assert [t["name"] for t in tokens] == ["test"]
    gone = app_client.delete(f"/api/v1/people/{sam}/tokens/{tokens[0]['id']}", headers=admin)
    assert gone.status_code == 204
    assert app_client.get("/api/v1/me", headers=agent).status_code == 401
