"""The SLA page without JavaScript: an admin adds a policy and changes an agency's contract; a
manager reads them; an agent is turned away."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import Agency, SlaPolicy
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

FORM = {
    "new": "1",
    "name": "hr-slow",
    "department": "hr",
    "priority": "",
    "channel": "",
    "first_response_minutes": "240",
    "next_response_minutes": "",
    "resolution_minutes": "2880",
    "business_hours": "always",
    "warn_before_minutes": "15",
}


def test_an_admin_adds_a_policy_and_changes_a_contract(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "admin@test.example")
    listing = app_client.get("/settings/sla")
    assert listing.status_code == 200 and 'id="policy-sales-fast"' in listing.text
    assert 'id="agency-outco"' in listing.text
    page = app_client.get("/settings/sla/new")
    bad = app_client.post(
        "/settings/sla", data={**FORM, "first_response_minutes": "0", "csrf": csrf_of(page.text)}
    )
    assert bad.status_code == 422 and "first_response_minutes" in bad.text and 'value="2880"' in bad.text
    saved = app_client.post(
        "/settings/sla", data={**FORM, "csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    with container.sessions() as session:
        row = session.scalars(select(SlaPolicy).where(SlaPolicy.name == "hr-slow")).one()
        assert (row.department_key, row.first_response_minutes, row.resolution_minutes) == ("hr", 240, 2880)
        assert row.business_hours_key == "always" and not row.around_the_clock
    contract = app_client.get("/settings/sla/agencies/outco")
    assert contract.status_code == 200
    changed = app_client.post(
        "/settings/sla/agencies/outco",
        data={
            "csrf": csrf_of(contract.text),
            "first_response_minutes": "20",
            "resolution_minutes": "",
            "intents": ["question", "praise"],
            "languages": "th",
            "replies_need_approval": "1",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    with container.sessions() as session:
        agency = session.scalars(select(Agency).where(Agency.key == "outco")).one()
        assert agency.contract["first_response_minutes"] == 20 and agency.contract["languages"] == ["th"]
        assert (
            agency.contract["replies_need_approval"] is True and agency.contract["around_the_clock"] is False
        )


def test_a_manager_reads_and_an_agent_is_turned_away(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "petra@test.example")
    listing = app_client.get("/settings/sla")
    assert listing.status_code == 200 and 'href="/settings/sla/new"' not in listing.text
    page = app_client.get("/settings/sla/sales-fast")
    assert page.status_code == 200 and "<fieldset disabled>" in page.text
    refused = app_client.post(
        "/settings/sla", data={**FORM, "csrf": csrf_of(listing.text)}, follow_redirects=False
    )
    assert refused.status_code == 403
    with container.sessions() as session:
        assert session.scalars(select(SlaPolicy).where(SlaPolicy.name == "hr-slow")).first() is None
    app_client.cookies.clear()
    browser_login(app_client, "sam@test.example")
    assert app_client.get("/settings/sla").status_code == 403
    assert 'href="/settings/sla"' not in app_client.get("/settings").text
