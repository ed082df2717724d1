"""A filter value that names nothing is a 422 naming the allowed values, never an empty list."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from relaydesk.container import Container
from relaydesk.conversations.filters import effective_statuses, filter_problems
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest


@pytest.mark.parametrize(
    ("params", "named"),
    [
        (
            {"status": "bogus"},
            "status: 'bogus' is not one of new, open, pending, resolved, reopened, snoozed, all",
        ),
        ({"status": ["open", "opne"]}, "status: 'opne' is not one of"),
        ({"sla": "soon"}, "sla: 'soon' is not one of ok, warning, breached, none"),
        ({"sentiment": "angry"}, "sentiment: 'angry' is not one of positive, neutral, negative"),
        ({"priority": "p1"}, "priority: 'p1' is not one of low, normal, high, urgent"),
        ({"assignee": "sam"}, "assignee: 'sam' is not a user id, 'me' or 'none'"),
        ({"department": "billing"}, "department: no department 'billing' in this organisation (known: "),
        ({"account": "nope"}, "account: no account 'nope' in this organisation"),
        ({"location": "mars"}, "location: no location 'mars' in this organisation"),
    ],
)
def test_unknown_filter_values_are_422_naming_the_allowed_ones(
    app_client: TestClient, params: dict[str, object], named: str
) -> None:
    admin = login(app_client, "admin@test.example")
    response = app_client.get("/api/v1/conversations", params=params, headers=admin)
    assert response.status_code == 422, response.text
    assert named in response.json()["detail"]


def test_every_bad_filter_is_named_at_once(app_client: TestClient) -> None:
    admin = login(app_client, "admin@test.example")
    response = app_client.get(
        "/api/v1/conversations", params={"status": "bogus", "sentiment": "angry"}, headers=admin
    )
    assert response.status_code == 422
    assert (
        "status: 'bogus'" in response.json()["detail"] and "sentiment: 'angry'" in response.json()["detail"]
    )


def test_status_all_and_known_values_still_filter(app_client: TestClient, container: Container) -> None:
    made = ingest(app_client, container, "north-generic", "f1", "Where is my order?")
    admin = login(app_client, "admin@test.example")

    def ids(**params: object) -> list[int]:
        response = app_client.get("/api/v1/conversations", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert ids(status="all") == ids() == [made]
    assert ids(status=["resolved", "all"]) == [made]
    assert ids(status="resolved") == []
    assert ids(department="pr", assignee="none", sla="breached", priority="urgent") == []
    assert ids(location="north", account="north-generic") == [made]


def test_filter_vocabularies_pure() -> None:
    assert (
        filter_problems(status=["new", "all"], sentiment="negative", priority="high", sla="ok", assignee="12")
        == []
    )
    assert filter_problems(assignee="me") == filter_problems(assignee="none") == []
    assert filter_problems(assignee="١٢") != []  # only ASCII digits make a user id
    assert effective_statuses(None) is None
    assert effective_statuses(["open", "all"]) is None
    assert effective_statuses(["open"]) == ["open"]
