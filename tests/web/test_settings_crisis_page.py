"""The crisis playbook page without JavaScript: PR saves the whole organisation's playbook and a
brand's own; an agent reads it and cannot change it; a wrong approver is refused with the reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import CrisisPlaybook
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def test_pr_writes_the_playbook_an_agent_reads_it(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "petra@test.example")
    assert 'href="/settings/crisis"' in app_client.get("/settings").text
    page = app_client.get("/settings/crisis")
    assert page.status_code == 200 and 'name="hold_replies"' in page.text
    form = {
        "csrf": csrf_of(page.text),
        "place": "",
        "notify_departments": ["hr"],
        "hold_replies": "1",
        "approvers": "@petra, admin",
        "statement_fa": "در حال بررسی هستیم.",
        "triggers": "recall: product recall\nrecall: فراخوان محصول",
    }
    saved = app_client.post("/settings/crisis", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    bad = app_client.post("/settings/crisis", data={**form, "approvers": "the boss"})
    assert bad.status_code == 422 and "the boss" in bad.text
    brand = app_client.post(
        "/settings/crisis", data={**form, "place": "brand", "hold_replies": ""}, follow_redirects=False
    )
    assert brand.status_code == 303
    with container.sessions() as session:
        rows = {r.place_id is None: r for r in session.scalars(select(CrisisPlaybook))}
    assert rows[True].approvers == ["@petra", "admin"] and rows[True].hold_replies
    assert rows[True].triggers == {"recall": ["product recall", "فراخوان محصول"]}
    assert not rows[False].hold_replies
    app_client.cookies.clear()
    browser_login(app_client, "sam@test.example")
    read = app_client.get("/settings/crisis")
    assert read.status_code == 200 and 'name="hold_replies"' not in read.text
    refused = app_client.post("/settings/crisis", data={**form, "csrf": csrf_of(read.text)})
    assert refused.status_code == 403
