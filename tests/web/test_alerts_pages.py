"""The crisis alert pages without JavaScript: a trigger message raises an alert; PR finds it
through the bell, writes the holding statement, acknowledges; the agent sees the statement in the
conversation's reply box and inserts it; the viewer is turned away; the timeline has each step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.models import CrisisAlert, Notification, User
from tests.api.test_webhook_and_inbox import ingest
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def raise_alert(app_client: TestClient, container: Container) -> tuple[int, int]:
    container.crisis_watch.run_once(utcnow())  # the watch starts from here
    conv = ingest(
        app_client, container, "north-generic", "cr1", "I got food poisoning from your salad", "p-cr"
    )
    # a minute on: the watch leaves the newest 30 s for transactions still committing
    assert container.crisis_watch.run_once(utcnow() + timedelta(minutes=1)).raised == 1
    with container.sessions() as session:
        alert = session.scalars(select(CrisisAlert)).one()
    return alert.id, conv


def test_pr_handles_an_alert_and_the_agent_is_offered_the_statement(
    app_client: TestClient, container: Container
) -> None:
    alert_id, conv = raise_alert(app_client, container)
    browser_login(app_client, "petra@test.example")
    bell = app_client.get("/notifications").text
    assert "food poisoning" in bell
    with container.sessions() as session:
        petra = session.scalars(select(User).where(User.handle == "petra")).one()
        notice = session.scalars(
            select(Notification).where(Notification.alert_id == alert_id, Notification.user_id == petra.id)
        ).first()
    assert notice is not None
    opened = app_client.post(
        f"/notifications/{notice.id}/read", data={"csrf": csrf_of(bell)}, follow_redirects=False
    )
    assert opened.status_code == 303, opened.text[-2000:]
    assert opened.headers["location"].endswith(f"/alerts/{alert_id}")
    page = app_client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200 and 'data-severity="high"' in page.text and "food poisoning" in page.text
    assert f"/conversations/{conv}" in page.text  # the message behind it
    saved = app_client.post(
        f"/alerts/{alert_id}/statement",
        data={
            "csrf": csrf_of(page.text),
            "statement_en": "We are looking into this with care.",
            "statement_fa": "در حال بررسی هستیم.",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    acked = app_client.post(
        f"/alerts/{alert_id}/action",
        data={"csrf": csrf_of(page.text), "action": "acknowledge", "note": "PR on it"},
        follow_redirects=False,
    )
    assert acked.status_code == 303
    page = app_client.get(f"/alerts/{alert_id}").text
    for step in ("raised", "notified", "statement", "acknowledged"):
        assert f'data-event="{step}"' in page
    assert "PR on it" in page
    listed = app_client.get("/alerts?status=acknowledged").text
    assert 'data-ack-minutes="0.0"' in listed and "data-median-ack=" in listed  # acknowledged at once
    again = app_client.post(
        f"/alerts/{alert_id}/action", data={"csrf": csrf_of(page), "action": "acknowledge"}
    )
    assert "moved on" in again.text  # acknowledged already: said, not a traceback
    app_client.cookies.clear()
    # another customer of the same brand writes: the agent answering is offered the statement
    other = ingest(app_client, container, "south-generic", "cr2", "Is your salad safe to eat?", "p-cr2")
    browser_login(app_client, "sam@test.example")
    conversation = app_client.get(f"/conversations/{other}").text
    assert "We are looking into this with care." in conversation
    inserted = app_client.get(f"/conversations/{other}", params={"statement": f"{alert_id}:en"}).text
    assert ">We are looking into this with care.</textarea>" in inserted
    assert app_client.get("/alerts").status_code == 200
    refused = app_client.post(
        f"/alerts/{alert_id}/action",
        data={"csrf": csrf_of(inserted), "action": "resolve"},
        follow_redirects=False,
    )
    assert refused.status_code == 303  # back with a message: agents do not resolve alerts
    with container.sessions() as session:
        assert session.get(CrisisAlert, alert_id).status == "acknowledged"  # type: ignore[union-attr]
    app_client.cookies.clear()
    browser_login(app_client, "vic@test.example")
    assert app_client.get("/alerts").status_code == 403
    assert 'href="/alerts"' not in app_client.get("/").text


def test_a_region_manager_sees_an_organisation_wide_alert_but_cannot_resolve_it(
    app_client: TestClient, container: Container
) -> None:
    from relaydesk.db import transaction
    from tests.api.conftest import login

    with transaction(container.sessions) as session:
        org_id = session.scalars(select(User.org_id)).first()
        alert = CrisisAlert(
            org_id=org_id, place_id=None, kind="surge", series="negative", severity="high",
            status="open", numbers={"text": "x"}, message_ids=[], messages=40, holding_statements={},
        )  # fmt: skip
        session.add(alert)
        session.flush()
        alert_id = alert.id
    nora = login(app_client, "nora@test.example")  # a manager limited to the north region
    seen = app_client.get(f"/api/v1/alerts/{alert_id}", headers=nora)
    assert seen.status_code == 200 and seen.json()["allowed"] == []
    refused = app_client.post(f"/api/v1/alerts/{alert_id}/actions", json={"action": "resolve"}, headers=nora)
    assert refused.status_code == 403
    statement = app_client.put(
        f"/api/v1/alerts/{alert_id}/statements", json={"statements": {"en": "hi"}}, headers=nora
    )
    assert statement.status_code == 403
    admin = login(app_client, "admin@test.example")
    done = app_client.post(f"/api/v1/alerts/{alert_id}/actions", json={"action": "resolve"}, headers=admin)
    assert done.status_code == 200 and done.json()["status"] == "resolved"


def test_the_reports_page_times_acknowledging_and_answering_the_alert(
    app_client: TestClient, container: Container
) -> None:
    alert_id, conv = raise_alert(app_client, container)
    browser_login(app_client, "petra@test.example")
    page = app_client.get(f"/conversations/{conv}")
    assert page.status_code == 200
    sent = app_client.post(
        f"/conversations/{conv}/reply",
        data={
            "text": "We are so sorry, please write to us privately.",
            "csrf": csrf_of(page.text),
            "override": "1",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[-1500:]
    alert = app_client.get(f"/alerts/{alert_id}")
    acked = app_client.post(
        f"/alerts/{alert_id}/action",
        data={"csrf": csrf_of(alert.text), "action": "acknowledge"},
        follow_redirects=False,
    )
    assert acked.status_code == 303
    report = app_client.get("/reports?days=7")
    assert report.status_code == 200 and 'id="crisis-alerts"' in report.text
    section = report.text.split('id="crisis-alerts"')[1].split('id="staffing"')[0]

    def big(metric: str) -> str:
        return section.split(f'data-metric="{metric}"')[1].split('<p class="big">')[1].split("</p>")[0]

    assert big("raised") == "1"
    assert big("acknowledge") != "—" and big("first-answer") != "—"
    assert big("first-public-answer") == "—"  # a private message: no public answer yet
    assert big("resolve") == "—"
    app_client.cookies.clear()
    browser_login(app_client, "vic@test.example")
    assert 'id="crisis-alerts"' not in app_client.get("/reports?days=7").text
