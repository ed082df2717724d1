"""The intents API follows the settings page's rules: a manager of the whole organisation changes
her departments' intents, a bad field is named in the 4xx answer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from relaydesk.container import Container
from tests.api.conftest import login
from tests.voice_people import add_person


def test_a_manager_changes_her_intent_and_a_bad_field_is_named(
    app_client: TestClient, container: Container
) -> None:
    add_person(container.sessions, "mo", "manager", ["service"])
    mo = login(app_client, "mo@test.example")
    mine = app_client.put(
        "/api/v1/intents/refund_request",
        json={"department": "service", "examples": ["I want my money back", "پولم را پس بدهید"]},
        headers=mo,
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["examples"] == ["I want my money back", "پولم را پس بدهید"]
    other = app_client.put(
        "/api/v1/intents/job_inquiry", json={"department": "hr", "examples": ["x"]}, headers=mo
    )
    assert other.status_code == 403
    admin = login(app_client, "admin@test.example")
    bad = app_client.put("/api/v1/intents/Bad-Name", json={"examples": ["x"]}, headers=admin)
    assert bad.status_code == 422 and bad.json()["field"] == "name"
    unknown = app_client.put(
        "/api/v1/intents/loyalty", json={"examples": ["x"], "department": "nope"}, headers=admin
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "department"
