"""Settings pages without JavaScript: routing rules edited in a form, tried, audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import AuditEntry, RoutingRule
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def rule(container: Container, name: str) -> RoutingRule | None:
    with container.sessions() as session:
        return session.scalars(select(RoutingRule).where(RoutingRule.name == name)).first()


def test_a_manager_edits_her_departments_rule_in_the_form_and_not_another(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "petra@test.example")  # manager of pr
    listing = app_client.get("/settings/rules")
    assert listing.status_code == 200
    assert "/settings/rules/crisis/edit" in listing.text and "/settings/rules/leads/edit" not in listing.text
    form = app_client.get("/settings/rules/crisis/edit")
    assert form.status_code == 200 and 'value="critical"' in form.text
    saved = app_client.post(
        "/settings/rules",
        data={
            "csrf": csrf_of(form.text),
            "new": "0",
            "name": "crisis",
            "urgency_at_least": "high",
            "keywords": "boycott\nتحریم",
            "department": "pr",
            "priority": "urgent",
            "require_approval": "1",
            "stop": "1",
            "enabled": "1",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    changed = rule(container, "crisis")
    assert changed is not None and changed.conditions == {
        "urgency_at_least": "high",
        "keywords": ["boycott", "تحریم"],
    }
    assert changed.actions == {"department": "pr", "priority": "urgent", "require_approval": True}
    assert changed.stop
    # The same form cannot take over the sales department's rule.
    taken = app_client.post(
        "/settings/rules",
        data={"csrf": csrf_of(form.text), "new": "0", "name": "leads", "department": "pr", "enabled": "1"},
    )
    assert taken.status_code == 403
    leads = rule(container, "leads")
    assert leads is not None and leads.actions == {"department": "sales"}
    assert app_client.get("/settings/rules/leads/edit", follow_redirects=False).status_code == 303
    off = app_client.post(
        "/settings/rules/leads/disable", data={"csrf": csrf_of(form.text)}, follow_redirects=False
    )
    assert off.status_code == 303 and leads.enabled
    with container.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.key == "crisis").order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None and entry.actor_name == "Petra PR" and entry.via == "web"


def test_the_try_box_shows_where_a_message_goes_and_why(app_client: TestClient) -> None:
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/settings/rules")
    tried = app_client.post(
        "/settings/rules/try",
        data={
            "csrf": csrf_of(page.text),
            "text": "<b>I want to buy</b> the large box",
            "account": "north-generic",
            "lang": "en",
        },
    )
    assert tried.status_code == 200
    assert 'data-result="department"' in tried.text and "Rules, in order" in tried.text
    assert "<b>I want to buy</b>" not in tried.text  # the message is shown escaped
    missing = app_client.post(
        "/settings/rules/try", data={"csrf": csrf_of(page.text), "text": "", "account": "x"}
    )
    assert missing.status_code == 422


def test_a_bad_rule_comes_back_with_its_problem_and_nothing_saved(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    form = app_client.get("/settings/rules/new")
    bad = app_client.post(
        "/settings/rules",
        data={
            "csrf": csrf_of(form.text),
            "new": "1",
            "name": "odd",
            "advanced": "time: {days: [someday]}",
            "enabled": "1",
        },
    )
    assert bad.status_code == 422 and "someday" in bad.text and 'value="odd"' in bad.text
    assert rule(container, "odd") is None
    broken = app_client.post(
        "/settings/rules",
        data={"csrf": csrf_of(form.text), "new": "1", "name": "odd", "advanced": "a: [", "enabled": "1"},
    )
    assert broken.status_code == 422 and "YAML" in broken.text
    taken = app_client.post(
        "/settings/rules", data={"csrf": csrf_of(form.text), "new": "1", "name": "leads", "department": "hr"}
    )
    assert taken.status_code == 422
    leads = rule(container, "leads")
    assert leads is not None and leads.actions == {"department": "sales"}


def test_agents_see_no_rules_and_only_admins_the_audit_log(app_client: TestClient) -> None:
    browser_login(app_client, "sam@test.example")
    assert app_client.get("/settings").status_code == 200
    assert app_client.get("/settings/rules").status_code == 403
    assert app_client.get("/settings/audit").status_code == 403
    app_client.cookies.clear()
    browser_login(app_client, "admin@test.example")
    audit = app_client.get("/settings/audit", params={"kind": "routing_rule"})
    assert audit.status_code == 200 and "leads" in audit.text


def test_a_regional_manager_is_told_to_limit_her_rule_to_her_locations(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "nora@test.example")  # manager of service and sales, north only
    listing = app_client.get("/settings/rules")
    assert "your rules are limited to its locations" in listing.text
    form = app_client.get("/settings/rules/new")
    answer = {
        "csrf": csrf_of(form.text),
        "new": "1",
        "name": "north-sales",
        "department": "sales",
        "enabled": "1",
    }
    refused = app_client.post("/settings/rules", data=answer)
    assert refused.status_code == 403 and "Limit the rule to locations" in refused.text
    assert rule(container, "north-sales") is None
    saved = app_client.post("/settings/rules", data={**answer, "location": "north"}, follow_redirects=False)
    assert saved.status_code == 303
    made = rule(container, "north-sales")
    assert made is not None and made.conditions == {"location": ["north"]}
