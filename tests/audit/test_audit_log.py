"""Every configuration change lands in the audit log: through the API, an apply, or not at all."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.audit.service import Actor, acting
from relaydesk.config.service import apply_config
from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import AuditEntry, RoutingRule
from tests.api.conftest import login
from tests.conftest import org_config


def _entries(client: TestClient, headers: dict[str, str], **params: str) -> list[dict]:
    response = client.get("/api/v1/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


def test_a_rule_changed_through_the_api_is_logged_with_who_and_before_after(app_client: TestClient) -> None:
    admin = login(app_client, "admin@test.example")
    changed = app_client.put(
        "/api/v1/rules/leads",
        json={"when": {"intent": ["purchase_interest"]}, "then": {"department": "sales", "priority": "high"}},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    entry, created = _entries(app_client, admin, kind="routing_rule", key="leads")
    assert created["action"] == "created" and created["actor"] == "config apply"  # the fixture's apply
    assert entry["actor"] == "Ada Admin" and entry["via"] == "api" and entry["action"] == "updated"
    assert entry["before"] == {"actions": {"department": "sales"}}
    assert entry["after"] == {"actions": {"department": "sales", "priority": "high"}}

    assert app_client.delete("/api/v1/rules/leads", headers=admin).status_code == 204
    deleted = _entries(app_client, admin, kind="routing_rule", key="leads")[0]
    assert deleted["action"] == "deleted" and deleted["after"] is None
    assert deleted["before"]["actions"] == {"department": "sales", "priority": "high"}


def test_managers_change_their_departments_rules_only_and_only_admins_reorder(app_client: TestClient) -> None:
    petra = login(app_client, "petra@test.example")  # manager of pr, the whole organisation
    crisis = {"when": {"urgency": ["critical"]}, "then": {"department": "pr", "priority": "high"}}
    assert app_client.put("/api/v1/rules/crisis", json=crisis, headers=petra).status_code == 200
    leads = {"when": {"intent": ["purchase_interest"]}, "then": {"department": "pr"}}
    # Taking another department's rule over is changing it.
    assert app_client.put("/api/v1/rules/leads", json=leads, headers=petra).status_code == 403
    assert app_client.delete("/api/v1/rules/jobs", headers=petra).status_code == 403
    assert app_client.post("/api/v1/rules/crisis/move?steps=-1", headers=petra).status_code == 403
    listed = {r["name"]: r["editable"] for r in app_client.get("/api/v1/rules", headers=petra).json()}
    assert listed == {"leads": False, "jobs": False, "crisis": True, "thai-questions-to-agency": False}

    nora = login(app_client, "nora@test.example")  # manager of service and sales, in the north only
    north = {
        "when": {"intent": ["purchase_interest"], "location": ["north"]},
        "then": {"department": "sales"},
    }
    assert app_client.put("/api/v1/rules/north-leads", json=north, headers=nora).status_code == 200
    everywhere = {"when": {"intent": ["purchase_interest"]}, "then": {"department": "sales"}}
    assert app_client.put("/api/v1/rules/all-leads", json=everywhere, headers=nora).status_code == 403

    sam = login(app_client, "sam@test.example")
    assert app_client.put("/api/v1/rules/leads", json=everywhere, headers=sam).status_code == 403

    admin = login(app_client, "admin@test.example")
    order = app_client.post("/api/v1/rules/north-leads/move?steps=-10", headers=admin).json()
    assert next(r["name"] for r in order) == "north-leads"
    assert [r["position"] for r in order] == list(range(1, len(order) + 1))
    who = {(e["actor"], e["key"]) for e in _entries(app_client, admin, kind="routing_rule")}
    assert who >= {("Petra PR", "crisis"), ("Nora North", "north-leads"), ("Ada Admin", "north-leads")}
    assert ("Petra PR", "leads") not in who


def test_only_owners_and_admins_read_the_log(app_client: TestClient) -> None:
    for email in ("nora@test.example", "sam@test.example", "vic@test.example"):
        headers = login(app_client, email)
        assert app_client.get("/api/v1/audit", headers=headers).status_code == 403
        assert app_client.get("/api/v1/audit.csv", headers=headers).status_code == 403


def test_an_apply_is_logged_secrets_as_a_marker_and_the_csv_says_the_same(
    app_client: TestClient, container: Container
) -> None:
    config = org_config()  # a private copy
    config.accounts[0].credentials = {"webhook_secret": "a-new-secret-value"}  # type: ignore[attr-defined]
    config.routing_rules = [r for r in config.routing_rules if r.name != "jobs"]  # type: ignore[attr-defined]
    with transaction(container.sessions) as session:
        acting(session, Actor(None, "relaydesk config apply org.yaml", "cli"))
        apply_config(session, config, container.box)  # type: ignore[arg-type]
    admin = login(app_client, "admin@test.example")
    account = _entries(app_client, admin, kind="account")[0]
    assert account["actor"] == "relaydesk config apply org.yaml" and account["via"] == "cli"
    assert account["after"] == {"credentials_encrypted": "(secret)"}
    assert "a-new-secret-value" not in str(account)
    jobs = _entries(app_client, admin, kind="routing_rule", key="jobs")[0]
    assert jobs["action"] == "deleted"

    mine = {"kind": "routing_rule", "actor": "relaydesk config apply org.yaml"}
    exported = app_client.get("/api/v1/audit.csv", params=mine, headers=admin)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    # The rules after the removed one moved up a place.
    assert {(r["key"], r["action"], r["field"]) for r in rows if r["action"] == "updated"} == {
        ("crisis", "updated", "position"),
        ("thai-questions-to-agency", "updated", "position"),
    }
    assert next(r for r in rows if r["key"] == "jobs")["action"] == "deleted"
    page = _entries(app_client, admin, **mine)
    assert len(page) == len({r["id"] for r in rows})  # the export has the page's entries
    assert "a-new-secret-value" not in app_client.get("/api/v1/audit.csv", headers=admin).text


def test_a_change_rolled_back_leaves_no_entry_and_a_session_without_actor_records_nothing(
    container: Container,
) -> None:
    with container.sessions() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    try:
        with transaction(container.sessions) as session:
            acting(session, Actor(None, "test", "cli"))
            rule = session.scalars(select(RoutingRule).where(RoutingRule.name == "leads")).one()
            rule.stop = True
            session.flush()
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with transaction(container.sessions) as session:
        rule = session.scalars(select(RoutingRule).where(RoutingRule.name == "leads")).one()
        rule.enabled = False  # no actor: e.g. a worker's session
    with container.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_an_apply_without_a_section_keeps_what_the_browser_made_and_one_with_it_replaces(
    app_client: TestClient, container: Container
) -> None:
    from relaydesk.config.loader import load_config_text

    admin = login(app_client, "admin@test.example")
    made = {"when": {"keywords": ["sponsor"]}, "then": {"department": "pr"}}
    assert app_client.put("/api/v1/rules/sponsorship", json=made, headers=admin).status_code == 200
    without_rules = "organization: {key: testco, name: Test Co}\nfaq:\n  - {key: hours, question: Open?, answer: Always., language: en}\n"
    loaded = load_config_text(without_rules, "partial.yaml")
    assert loaded.config is not None, loaded.problems
    with transaction(container.sessions) as session:
        apply_config(session, loaded.config, container.box)
    names = {r["name"] for r in app_client.get("/api/v1/rules", headers=admin).json()}
    assert "sponsorship" in names and "leads" in names

    with_rules = (
        without_rules
        + "routing_rules:\n  - {name: only, when: {intent: [complaint]}, then: {priority: high}}\n"
    )
    loaded = load_config_text(with_rules, "full.yaml")
    assert loaded.config is not None, loaded.problems
    with transaction(container.sessions) as session:
        apply_config(session, loaded.config, container.box)
    assert [r["name"] for r in app_client.get("/api/v1/rules", headers=admin).json()] == ["only"]
