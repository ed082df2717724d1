"""Reports for teams: approvals and their review time, agency vs in-house SLA (issue #5)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.core.timeutil import as_utc
from relaydesk.models import Conversation, TimelineEvent
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest


def test_report_counts_approvals_and_their_review_time(app_client: TestClient, container: Container) -> None:
    admin = login(app_client, "admin@test.example")
    crisis = ingest(
        app_client,
        container,
        "north-generic",
        "rep-c1",
        "Your food gave me food poisoning, my lawyer will sue",
    )
    replies = [
        app_client.post(f"/api/v1/conversations/{crisis}/reply", json={"text": text}, headers=admin)
        for text in ("We are so sorry", "Please call us")
    ]
    assert [r.status_code for r in replies] == [201, 201]
    first, second = (r.json()["message_id"] for r in replies)
    base = f"/api/v1/conversations/{crisis}/messages"
    petra = login(app_client, "petra@test.example")  # nobody reviews their own reply
    assert app_client.post(f"{base}/{first}/approve", json={}, headers=petra).status_code == 200
    assert app_client.post(f"{base}/{second}/reject", json={}, headers=petra).status_code == 200

    report = app_client.get("/api/v1/reports/kpis", headers=admin)
    assert report.status_code == 200, report.text
    approvals = report.json()["approvals"]
    assert {k: approvals[k] for k in ("requested", "approved", "rejected", "waiting")} == {
        "requested": 2,
        "approved": 1,
        "rejected": 1,
        "waiting": 0,
    }
    assert approvals["review_time"]["count"] == 2
    assert approvals["review_time"]["median"] is not None and approvals["review_time"]["median"] >= 0


def test_agency_contract_drives_its_clock_and_is_reported_apart(
    app_client: TestClient, container: Container
) -> None:
    # A Thai question goes to the agency (OutCo: 15 minutes, 24/7); an order question stays in-house (60).
    agency = ingest(app_client, container, "south-generic", "rep-a1", "ร้านเปิดกี่โมงคะ", "thai")
    in_house = ingest(app_client, container, "north-generic", "rep-h1", "Where is my order?", "ann")
    with container.sessions() as session:
        due = {}
        for conv_id in (agency, in_house):
            row = session.get(Conversation, conv_id)
            assert row is not None
            start, first_due = as_utc(row.awaiting_since), as_utc(row.first_response_due)
            assert start is not None and first_due is not None
            due[conv_id] = first_due - start
        clock_notes = session.scalars(
            select(TimelineEvent.reason).where(
                TimelineEvent.conversation_id == agency, TimelineEvent.kind == "sla"
            )
        ).all()
    assert due[agency] == timedelta(minutes=15)
    assert due[in_house] == timedelta(minutes=60)
    assert any("by policy 'outco contract' (24/7)" in note for note in clock_notes)

    admin = login(app_client, "admin@test.example")
    for conv_id in (agency, in_house):
        reply = app_client.post(
            f"/api/v1/conversations/{conv_id}/reply", json={"text": "Hello!"}, headers=admin
        )
        assert reply.status_code == 201, reply.text
    teams = app_client.get("/api/v1/reports/kpis", headers=admin).json()["by_team"]
    assert set(teams) == {"agency:outco", "in-house"}
    for team in teams.values():
        assert team["conversations"] == 1
        assert team["sla"]["first_response"]["numerator"] == team["sla"]["first_response"]["denominator"] == 1
