"""The report bodies the API documents are the ones it always sent: same fields, values and order."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.container import Container
from relaydesk.models import User
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest

NOW = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture
def traffic(app_client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Two conversations, one answered, at a fixed clock; the admin's headers."""
    monkeypatch.setattr("relaydesk.analytics.service.utcnow", lambda: NOW)
    admin = login(app_client, "admin@test.example")
    answered = ingest(app_client, container, "north-generic", "body-1", "Where is my order?", "ann")
    ingest(app_client, container, "south-generic", "body-2", "ร้านเปิดกี่โมงคะ", "thai")
    reply = app_client.post(f"/api/v1/conversations/{answered}/reply", json={"text": "Hi!"}, headers=admin)
    assert reply.status_code == 201, reply.text
    return admin


def _admin_scope(container: Container) -> Scope:
    with container.sessions() as session:
        return scope_for(
            session, session.scalars(select(User).where(User.email == "admin@test.example")).one()
        )


def test_kpi_body_is_the_summary_as_it_was_sent(
    app_client: TestClient, container: Container, traffic: dict[str, str]
) -> None:
    response = app_client.get("/api/v1/reports/kpis", params={"tz": "Asia/Tehran"}, headers=traffic)
    assert response.status_code == 200, response.text
    summary = container.analytics.kpi_summary(_admin_scope(container), tz="Asia/Tehran")
    assert summary.conversations == 2
    # What the route sent before it had a response model: the summary's dict through JSONResponse.
    assert response.content == JSONResponse(summary.to_dict()).body


def test_staffing_body_is_the_plan_as_it_was_sent(
    app_client: TestClient, container: Container, traffic: dict[str, str]
) -> None:
    params = {"days": 3, "tz": "Asia/Tehran", "aht_minutes": 7.5, "shrinkage": 0.25}
    response = app_client.get("/api/v1/reports/staffing", params=params, headers=traffic)
    assert response.status_code == 200, response.text
    plan = container.analytics.staffing_plan(
        _admin_scope(container), days=3, tz="Asia/Tehran", aht_minutes=7.5, shrinkage=0.25
    )
    expected = {"tz": "Asia/Tehran", "days": 3, "hours": [asdict(h) for h in plan]}
    assert response.content == JSONResponse(expected).body


def test_the_openapi_documents_the_report_bodies(app_client: TestClient) -> None:
    spec = app_client.get("/openapi.json").json()
    for path, model in (("kpis", "KpiSummaryOut"), ("staffing", "StaffingPlanOut")):
        ok = spec["paths"][f"/api/v1/reports/{path}"]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
    summary = spec["components"]["schemas"]["KpiSummaryOut"]["properties"]
    assert summary["by_hour"]["additionalProperties"] == {"$ref": "#/components/schemas/GroupKpisOut"}
