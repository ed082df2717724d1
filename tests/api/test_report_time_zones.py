"""Reports take an IANA time zone: an unknown one is a 422 naming `tz`, on every report."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login


@pytest.mark.parametrize("report", ["kpis", "staffing"])
@pytest.mark.parametrize("zone", ["Not/AZone", "../../etc/passwd", "", " "])
def test_an_unknown_time_zone_is_a_422_naming_tz(app_client: TestClient, report: str, zone: str) -> None:
    admin = login(app_client, "admin@test.example")
    response = app_client.get(f"/api/v1/reports/{report}", params={"tz": zone}, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("query.tz: ")
    assert "time zone" in response.json()["detail"]


@pytest.mark.parametrize("report", ["kpis", "staffing"])
def test_a_real_time_zone_is_used(app_client: TestClient, report: str) -> None:
    admin = login(app_client, "admin@test.example")
    response = app_client.get(f"/api/v1/reports/{report}", params={"tz": "Asia/Tehran"}, headers=admin)
    assert response.status_code == 200, response.text
